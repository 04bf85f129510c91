import { afterAll, beforeAll } from 'vitest';
import { Mosquitto } from './mosquitto.js';

/** One broker for a describe block: started before its tests, stopped after. */
export function useMosquitto(): () => Mosquitto {
  let broker: Mosquitto | undefined;
  beforeAll(async () => {
    broker = await Mosquitto.start();
  }, 30_000);
  afterAll(async () => {
    await broker?.stop();
  });
  return () => broker!;
}

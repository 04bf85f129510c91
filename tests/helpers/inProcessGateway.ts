/**
 * A gateway and its HTTP server started in the test process on a data_dir (no listening socket:
 * tests use `app.inject`), stopped after each test. Starting twice on the same data_dir is how
 * tests restart the box.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach } from 'vitest';
import type { GatewayContext } from '../../src/gateway/context.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';

const running: { gateway: Gateway; app: FastifyInstance }[] = [];

afterEach(async () => {
  for (const handle of running.splice(0)) await stopHandle(handle);
});

async function stopHandle({ gateway, app }: { gateway: Gateway; app: FastifyInstance }): Promise<void> {
  await app.close();
  await gateway.stop();
}

export async function startInProcess(dataDir: string, ctx: GatewayContext): Promise<{ gateway: Gateway; app: FastifyInstance; stop: () => Promise<void> }> {
  const gateway = await Gateway.start({ ctx, rawConfig: { data_dir: dataDir } });
  const app = buildServer(gateway, ctx);
  await app.ready();
  const handle = { gateway, app };
  running.push(handle);
  const stop = async (): Promise<void> => {
    running.splice(running.indexOf(handle), 1);
    await stopHandle(handle);
  };
  return { gateway, app, stop };
}

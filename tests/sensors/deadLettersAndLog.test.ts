/** The refusal side's bookkeeping: the rate-limited log and the dead-letter table's retention. */
import path from 'node:path';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RateLimitedLog } from '../../src/common/rateLimitedLog.js';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import { DataStore } from '../../src/store/dataStore.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';

describe('rate-limited log', () => {
  it('writes one line per key per interval and reports how many were left out', () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
    const clock = { now: 0 };
    const limited = new RateLimitedLog(log, () => clock.now, 10_000);
    for (let i = 0; i < 50; i++) limited.warn('door:not_json', { i }, 'refused');
    limited.warn('till:not_json', {}, 'refused');
    clock.now = 10_000;
    limited.warn('door:not_json', { i: 50 }, 'refused');
    expect(lines.map((l) => [l.i, l.suppressed_since_last])).toEqual([
      [0, undefined],
      [undefined, undefined],
      [50, 49],
    ]);
  });
});

describe('dead letters', () => {
  it('are pruned with the events retention', async () => {
    const dir = await tempDir('dead-letters');
    const parsed = parseConfig({ data_dir: dir, storage: { retention_days: { events: 1 } } }, {});
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const clock = { now: Date.parse('2026-11-22T10:00:00Z') };
    const store = DataStore.open({ ctx: { ...testContext(), now: () => clock.now }, config: () => parsed.config, file: path.join(dir, 'dl.db') });
    const letter = (receivedAt: number) => ({ receivedAt, channel: 'mqtt' as const, topic: 't', sensor: 's', code: 'not_json' as const, reason: 'payload is not JSON', payload: Buffer.from('{') });
    store.deadLetters.add(letter(clock.now - 2 * 86_400_000));
    store.deadLetters.add(letter(clock.now - 1000));
    expect(store.deadLetters.count()).toBe(2);
    expect(store.retention.applyRetention()).toMatchObject({ dead_letters: 1 });
    expect(store.deadLetters.list()).toEqual([expect.objectContaining({ received_at: clock.now - 1000, payload: '{' })]);
    await store.close();
  });
});

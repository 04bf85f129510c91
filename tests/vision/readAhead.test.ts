import { describe, expect, it } from 'vitest';
import { readAhead } from '../../src/vision/readAhead.js';

async function* numbers(n: number, log: string[], failAt?: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    if (i === failAt) throw new Error(`source failed at ${i}`);
    log.push(`produce ${i}`);
    yield i;
  }
}

describe('readAhead', () => {
  it('yields every item in order while producing ahead of the consumer', async () => {
    const log: string[] = [];
    const seen: number[] = [];
    for await (const v of readAhead(numbers(6, log), 3)) {
      log.push(`consume ${v}`);
      seen.push(v);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    // Item 2 was already produced before item 0 was consumed.
    expect(log.indexOf('produce 2')).toBeLessThan(log.indexOf('consume 0'));
  });

  it('surfaces a source error after the items before it', async () => {
    const seen: number[] = [];
    await expect(async () => {
      for await (const v of readAhead(numbers(10, [], 4), 3)) seen.push(v);
    }).rejects.toThrow('source failed at 4');
    expect(seen).toEqual([0, 1, 2, 3]);
  });
});

/**
 * Seeded generators of sensor payloads that must all be refused: bytes that are not UTF-8, JSON cut
 * short, wrong types, out-of-range and fractional numbers, impossible timestamps, missing fields,
 * oversized bodies. Each generator is invalid by construction, so "every one refused" is a real check.
 */
import { seededRandom } from './syntheticDetections.js';

export interface ProfileShape {
  /** A valid payload (the generators break it). */
  valid: (rand: () => number) => Record<string, unknown>;
  /** The fields whose absence or corruption must be refused. */
  required: string[];
  /** Numbers that are out of range or not whole where they must be. */
  badNumbers: number[];
}

const junkValues = (rand: () => number): unknown[] => ['abc', '', '1e999', 'NaN', '12 people', true, false, null, [], [1, 2], { n: 1 }, String.fromCharCode(0x41 + Math.floor(rand() * 26)).repeat(3)];

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

export function malformedPayloads(shape: ProfileShape, count: number, seed: number, now: number): Buffer[] {
  const rand = seededRandom(seed);
  const generators: (() => Buffer)[] = [
    // Not UTF-8: a lone continuation byte inside otherwise printable text.
    () => Buffer.concat([Buffer.from(JSON.stringify(shape.valid(rand)).slice(0, 1 + Math.floor(rand() * 8))), Buffer.from([0x80 + Math.floor(rand() * 0x40)]), Buffer.from('"}')]),
    // Random binary starting with an invalid UTF-8 lead byte.
    () => Buffer.concat([Buffer.from([0xff]), Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)))]),
    // JSON cut short: always misses at least the closing brace.
    () => {
      const text = JSON.stringify(shape.valid(rand));
      return Buffer.from(text.slice(0, Math.floor(rand() * (text.length - 1))));
    },
    // Valid JSON of the wrong shape.
    () => Buffer.from(pick(rand, ['[]', '[1,2,3]', 'true', 'false', 'null', '"hello"', '{}', '""', '   '])),
    // A required field missing.
    () => {
      const body = shape.valid(rand);
      delete body[pick(rand, shape.required)];
      body[`x${Math.floor(rand() * 100)}`] = rand();
      return Buffer.from(JSON.stringify(body));
    },
    // A required field of the wrong type.
    () => ({ ...shape.valid(rand), [pick(rand, shape.required)]: pick(rand, junkValues(rand)) }),
    // A required number out of range or not whole.
    () => ({ ...shape.valid(rand), [pick(rand, shape.required)]: pick(rand, shape.badNumbers) }),
    // A timestamp from the future, from long ago, or not a time.
    () => ({ ...shape.valid(rand), ts: pick(rand, [now / 1000 + 3600 + rand() * 1e6, now + 86_400_000, 1, now / 1000 - 30 * 86_400, 'tomorrow', '2026-13-45T99:00:00Z', true, [now]]) }),
    // Oversized.
    () => Buffer.from(JSON.stringify({ ...shape.valid(rand), pad: 'x'.repeat(17_000 + Math.floor(rand() * 5000)) })),
  ].map((g) => () => {
    const out = g();
    return Buffer.isBuffer(out) ? out : Buffer.from(JSON.stringify(out));
  });
  return Array.from({ length: count }, () => pick(rand, generators)());
}

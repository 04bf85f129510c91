/**
 * Reading untrusted sensor payloads: size, UTF-8, JSON, fields and timestamps, each failure with a
 * machine code (a metric label) and a sentence for the installer (the dead-letter table and the log).
 * Nothing here throws on bad input.
 */

export type RejectCode =
  | 'too_large'
  | 'not_utf8'
  | 'not_json'
  | 'not_object'
  | 'missing_field'
  | 'wrong_type'
  | 'out_of_range'
  | 'bad_timestamp'
  | 'implausible'
  | 'unknown_topic';

export interface Rejection {
  ok: false;
  code: RejectCode;
  reason: string;
}

export type Result<T> = { ok: true; value: T } | Rejection;

export const MAX_PAYLOAD_BYTES = 16 * 1024;

export function reject(code: RejectCode, reason: string): Rejection {
  return { ok: false, code, reason };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A JSON payload, or a bare number or string (simple buttons and sensors publish `3`). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function decodeJson(payload: Uint8Array): Result<JsonValue> {
  if (payload.length > MAX_PAYLOAD_BYTES) return reject('too_large', `payload of ${payload.length} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`);
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return reject('not_utf8', 'payload is not valid UTF-8');
  }
  if (text.trim() === '') return reject('not_json', 'payload is empty');
  try {
    return { ok: true, value: JSON.parse(text) as JsonValue };
  } catch (err) {
    // V8 quotes about ten characters of the text ("…x411111111"…): a piece of a card number too short to
    // be masked. The payload is kept (masked) in the dead letter, so the excerpt is left out here.
    const message = (err as Error).message.replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, ' in JSON');
    return reject('not_json', `payload is not JSON: ${message.slice(0, 80)}`);
  }
}

export function isObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `a.b.c` into nested objects; undefined when any step is missing. */
export function selectField(value: JsonValue, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const key of path.split('.')) {
    if (current === undefined || !isObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
}

export function numberField(value: JsonValue | undefined, name: string, rule: NumberRule = {}): Result<number> {
  if (value === undefined || value === null) return reject('missing_field', `"${name}" is missing`);
  // Many devices send numbers as strings ("12"): accept a plain decimal, nothing looser.
  const n = typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) return reject('wrong_type', `"${name}" must be a number`);
  if (rule.integer && !Number.isInteger(n)) return reject('wrong_type', `"${name}" must be a whole number, got ${n}`);
  if (rule.min !== undefined && n < rule.min) return reject('out_of_range', `"${name}" is ${n}, below ${rule.min}`);
  if (rule.max !== undefined && n > rule.max) return reject('out_of_range', `"${name}" is ${n}, above ${rule.max}`);
  return { ok: true, value: n };
}

export function optionalString(value: JsonValue | undefined, name: string, pattern: RegExp, hint: string): Result<string | undefined> {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value !== 'string' || !pattern.test(value)) return reject('wrong_type', `"${name}" must be ${hint}`);
  return { ok: true, value };
}

export interface TimestampRule {
  /** A device clock ahead of ours by more than this is wrong (ms). */
  maxFutureMs: number;
  /** Older readings are refused rather than rewriting closed history (ms). */
  maxAgeMs: number;
}

export const DEFAULT_TIMESTAMP_RULE: TimestampRule = { maxFutureMs: 5 * 60_000, maxAgeMs: 7 * 86_400_000 };

/**
 * The reading's time: the payload's `field` (epoch seconds, epoch ms or ISO 8601) or, without one,
 * the time it was received.
 */
export function eventTime(value: JsonValue, field: string, receivedAt: number, rule = DEFAULT_TIMESTAMP_RULE): Result<number> {
  const raw = isObject(value) ? selectField(value, field) : undefined;
  if (raw === undefined || raw === null) return { ok: true, value: receivedAt };
  let ms: number;
  if (typeof raw === 'number' && Number.isFinite(raw)) {
    ms = raw < 1e11 ? raw * 1000 : raw; // seconds until the year 5138, milliseconds after
  } else if (typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(raw)) {
    ms = Date.parse(raw);
    if (Number.isNaN(ms)) return reject('bad_timestamp', `"${field}" is not a valid ISO 8601 time`);
  } else {
    return reject('bad_timestamp', `"${field}" must be epoch seconds, epoch milliseconds or an ISO 8601 time`);
  }
  ms = Math.round(ms);
  if (ms > receivedAt + rule.maxFutureMs) return reject('bad_timestamp', `"${field}" is ${Math.round((ms - receivedAt) / 1000)} s in the future: check the device clock`);
  if (ms < receivedAt - rule.maxAgeMs) return reject('bad_timestamp', `"${field}" is older than ${Math.round(rule.maxAgeMs / 86_400_000)} days`);
  return { ok: true, value: ms };
}

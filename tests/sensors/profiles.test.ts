/** The MQTT sensor profiles: what each payload means, and every refusal with its reason. */
import { describe, expect, it } from 'vitest';
import { DoorCounterProfile, FeedbackProfile, NumericProfile, PosProfile } from '../../src/sensors/profiles/index.js';
import { mqttSensorSchema } from '../../src/sensors/sensorConfigSchema.js';
import type { DoorCounterConfig, FeedbackConfig, NumericConfig, PosConfig } from '../../src/sensors/sensorConfigSchema.js';

const NOW = Date.parse('2026-11-22T10:00:00Z');
const json = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const door = (extra: Record<string, unknown> = {}) => mqttSensorSchema.parse({ id: 'door-1', topic: 'door/1', profile: 'door_counter', ...extra }) as DoorCounterConfig;

describe('door counter, cumulative totals', () => {
  it('takes the first total as the baseline and counts the differences after it', () => {
    const p = new DoorCounterProfile(door());
    expect(p.read(json({ in: 1000, out: 990 }), NOW)).toEqual({ ok: true, events: [] });
    expect(p.read(json({ in: 1004, out: 991 }), NOW + 1000)).toEqual({ ok: true, events: [{ type: 'door_count', ts: NOW + 1000, sensor: 'door-1', in: 4, out: 1 }] });
    // No change: nothing happened, no event.
    expect(p.read(json({ in: 1004, out: 991 }), NOW + 2000)).toEqual({ ok: true, events: [] });
  });

  it('treats a smaller total as a reset (counted from 0 again) unless the counter wrapped', () => {
    const reset = new DoorCounterProfile(door(), { in: 500, out: 480 });
    expect(reset.read(json({ in: 3, out: 1 }), NOW)).toMatchObject({ ok: true, events: [{ in: 3, out: 1 }] });
    const wrapping = new DoorCounterProfile(door({ wrap_at: 65536 }), { in: 65530, out: 100 });
    expect(wrapping.read(json({ in: 4, out: 102 }), NOW)).toMatchObject({ ok: true, events: [{ in: 10, out: 2 }] });
    // Far from the modulus a smaller value is still a reset.
    const notWrapped = new DoorCounterProfile(door({ wrap_at: 65536 }), { in: 20, out: 20 });
    expect(notWrapped.read(json({ in: 5, out: 20 }), NOW)).toMatchObject({ ok: true, events: [{ in: 5, out: 0 }] });
  });

  it('refuses an implausible jump and counts on from the new total', () => {
    const p = new DoorCounterProfile(door({ max_per_reading: 100 }), { in: 10, out: 10 });
    expect(p.read(json({ in: 5_000_000, out: 10 }), NOW)).toMatchObject({ ok: false, code: 'implausible' });
    expect(p.read(json({ in: 5_000_002, out: 11 }), NOW)).toMatchObject({ ok: true, events: [{ in: 2, out: 1 }] });
    expect(p.snapshot()).toEqual({ in: 5_000_002, out: 11 });
  });

  it('reads nested fields, swapped directions and the device timestamp', () => {
    const p = new DoorCounterProfile(door({ in_field: 'counts.a', out_field: 'counts.b', swap_directions: true, counting: 'delta' }));
    const ts = NOW - 60_000;
    expect(p.read(json({ counts: { a: 3, b: 1 }, ts: ts / 1000 }), NOW)).toEqual({ ok: true, events: [{ type: 'door_count', ts, sensor: 'door-1', in: 1, out: 3 }] });
    expect(p.read(json({ counts: { a: 3, b: 1 }, ts: new Date(ts).toISOString() }), NOW)).toMatchObject({ ok: true, events: [{ ts }] });
  });

  it('recognises a redelivered delta by its sequence number', () => {
    const p = new DoorCounterProfile(door({ counting: 'delta' }));
    expect(p.read(json({ in: 2, out: 0, seq: 7 }), NOW)).toMatchObject({ ok: true, events: [{ in: 2 }] });
    expect(p.read(json({ in: 2, out: 0, seq: 7 }), NOW)).toEqual({ ok: true, events: [], duplicate: true });
    expect(p.read(json({ in: 1, out: 1, seq: 8 }), NOW)).toMatchObject({ ok: true, events: [{ in: 1, out: 1 }] });
  });

  it.each([
    ['not JSON', '{in: 3', 'not_json'],
    ['an array', '[1,2]', 'not_object'],
    ['a missing field', { in: 3 }, 'missing_field'],
    ['a negative count', { in: -1, out: 0 }, 'out_of_range'],
    ['a fractional count', { in: 1.5, out: 0 }, 'wrong_type'],
    ['a boolean', { in: true, out: 0 }, 'wrong_type'],
    ['a clock an hour ahead', { in: 1, out: 0, ts: NOW / 1000 + 3600 }, 'bad_timestamp'],
    ['a timestamp of the wrong kind', { in: 1, out: 0, ts: 'yesterday' }, 'bad_timestamp'],
  ])('refuses %s with a reason', (_what, payload, code) => {
    const outcome = new DoorCounterProfile(door({ counting: 'delta' })).read(json(payload), NOW);
    expect(outcome).toMatchObject({ ok: false, code });
    expect(outcome.ok ? '' : outcome.reason.length).toBeGreaterThan(5);
  });
});

describe('feedback terminal', () => {
  const config = mqttSensorSchema.parse({ id: 'exit-smiley', topic: 'fb', profile: 'feedback', zone: 'exit' }) as FeedbackConfig;
  it('accepts a button, a score or a bare number within the scale', () => {
    const p = new FeedbackProfile(config);
    expect(p.read(json({ button: 4 }), NOW)).toEqual({ ok: true, events: [{ type: 'feedback_vote', ts: NOW, terminal: 'exit-smiley', zone: 'exit', score: 4, scale: 4 }] });
    expect(p.read(json({ score: 1 }), NOW)).toMatchObject({ ok: true, events: [{ score: 1 }] });
    expect(p.read(json('2'), NOW)).toMatchObject({ ok: true, events: [{ score: 2 }] });
    expect(p.read(json({ button: 5 }), NOW)).toMatchObject({ ok: false, code: 'out_of_range' });
    expect(p.read(json({ button: 0 }), NOW)).toMatchObject({ ok: false, code: 'out_of_range' });
    expect(p.read(json({ pressed: 1 }), NOW)).toMatchObject({ ok: false, code: 'missing_field' });
  });
});

describe('POS transaction', () => {
  const config = mqttSensorSchema.parse({ id: 'pos', topic: 'pos/+', profile: 'pos', currency: 'EUR' }) as PosConfig;
  it('reads a sale and counts a redelivered transaction id once', () => {
    const p = new PosProfile(config);
    const sale = { id: 'T-1', amount: 42.5, register: 'till-2', items: 3, ts: '2026-11-22T09:59:00Z' };
    expect(p.read(json(sale), NOW)).toEqual({
      ok: true,
      events: [{ type: 'pos_transaction', ts: Date.parse('2026-11-22T09:59:00Z'), register: 'till-2', amount: 42.5, currency: 'EUR', items: 3 }],
    });
    expect(p.read(json(sale), NOW)).toEqual({ ok: true, events: [], duplicate: true });
    expect(p.read(json({ amount: 10 }), NOW)).toMatchObject({ ok: true, events: [{ register: 'pos', amount: 10 }] });
  });
  it('refuses refunds, bad currencies and absurd amounts', () => {
    const p = new PosProfile(config);
    expect(p.read(json({ amount: -5 }), NOW)).toMatchObject({ ok: false, code: 'out_of_range', reason: expect.stringContaining('refund') });
    expect(p.read(json({ amount: 5, currency: 'euro' }), NOW)).toMatchObject({ ok: false, code: 'wrong_type' });
    expect(p.read(json({ amount: 5e9 }), NOW)).toMatchObject({ ok: false, code: 'out_of_range' });
    expect(p.read(json({ amount: '12.50' }), NOW)).toMatchObject({ ok: true, events: [{ amount: 12.5 }] });
  });
});

describe('numeric sensor', () => {
  it('selects its field, accepts a bare number and refuses readings outside its range', () => {
    const config = mqttSensorSchema.parse({ id: 'co2', topic: 'air', profile: 'numeric', field: 'data.co2', unit: 'ppm', min: 0, max: 10000 }) as NumericConfig;
    const p = new NumericProfile(config);
    expect(p.read(json({ data: { co2: 612 } }), NOW)).toEqual({ ok: true, events: [{ type: 'sensor_reading', ts: NOW, sensor: 'co2', value: 612, unit: 'ppm' }] });
    expect(p.read(json('700'), NOW)).toMatchObject({ ok: true, events: [{ value: 700 }] });
    expect(p.read(json({ data: { co2: 20000 } }), NOW)).toMatchObject({ ok: false, code: 'out_of_range' });
    expect(p.read(json({ data: {} }), NOW)).toMatchObject({ ok: false, code: 'missing_field' });
    expect(p.read(Buffer.from([0xff, 0xfe, 0x31]), NOW)).toMatchObject({ ok: false, code: 'not_utf8' });
    expect(p.read(Buffer.alloc(20_000, 0x31), NOW)).toMatchObject({ ok: false, code: 'too_large' });
  });
});

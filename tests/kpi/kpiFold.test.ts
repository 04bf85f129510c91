/**
 * Issue 15: the KPI bins are computed in one time-ordered pass that keeps no events (foldKpis), so an
 * hourly or daily bin of a busy store no longer holds the hour's or day's events. The pass must give
 * exactly the bins of the computation it replaced (tests/kpi/referenceKpis.ts), byte for byte, since
 * the recorder compares stored bins as JSON to decide on a new revision.
 */
import { describe, expect, it } from 'vitest';
import type { StoreEvent } from '../../src/kpi/events.js';
import { computeKpis, foldKpiHistory, foldKpis, type KpiSettings } from '../../src/kpi/kpiEngine.js';
import { binStart, type BinSize } from '../../src/kpi/timeBins.js';
import { referenceComputeKpis } from './referenceKpis.js';

const at = (hhmm: string, day = '2026-10-24'): number => Date.parse(`${day}T${hhmm}:00+02:00`);
const MINUTE = 60_000;

const SETTINGS: KpiSettings = {
  timeZone: 'Europe/Paris',
  openingTime: '08:00',
  entrances: [{ camera: 'door', line: 'entrance' }, { sensor: 'side-door' }, { planLine: 'front' }],
  outsideLine: { camera: 'door', line: 'pavement' },
  engagedDwellMs: 30_000,
  bounceMs: 10_000,
  queueZones: [{ camera: 'door', zone: 'queue' }],
  plan: { queueZones: ['tills'] },
};

/**
 * Two days across the end of summer time (25 October 2026 in Paris: a 25-hour day), with many
 * events on whole minutes: several at the same instant, at a bin's first millisecond, at the opening.
 */
function events(seed: number): StoreEvent[] {
  const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const out: StoreEvent[] = [];
  for (let ts = at('06:00'); ts < at('12:00', '2026-10-25'); ) {
    const r = rand();
    const direction = rand() < 0.5 ? 'in' : 'out';
    if (r < 0.2) out.push({ type: 'line_crossing', ts, camera: 'door', line: 'entrance', direction });
    else if (r < 0.25) out.push({ type: 'line_crossing', ts, camera: 'door', line: 'pavement', direction });
    else if (r < 0.35) out.push({ type: 'door_count', ts, sensor: 'side-door', in: Math.floor(rand() * 3), out: Math.floor(rand() * 4) });
    else if (r < 0.38) out.push({ type: 'door_count', ts, sensor: 'back-door', in: 1, out: 0 });
    else if (r < 0.43) out.push({ type: 'plan_line_crossing', ts, line: rand() < 0.7 ? 'front' : 'aisle-3', direction });
    else if (r < 0.46) out.push({ type: 'staff_presence', ts, badge: `b${Math.floor(rand() * 3)}`, present: rand() < 0.6 });
    else if (r < 0.58) {
      const dwell = Math.floor(rand() * 900_000);
      out.push({ type: 'zone_visit', ts, camera: rand() < 0.8 ? 'door' : 'back', zone: rand() < 0.5 ? 'queue' : 'shelf', enter_ts: ts - dwell, dwell_ms: dwell, counted: dwell > 5_000 });
    } else if (r < 0.64) {
      const dwell = Math.floor(rand() * 600_000);
      out.push({ type: 'plan_zone_visit', ts, zone: rand() < 0.5 ? 'tills' : 'aisle', enter_ts: ts - dwell, dwell_ms: dwell, counted: dwell > 5_000 });
    } else if (r < 0.76) out.push({ type: 'pos_transaction', ts, register: 'till-1', amount: Math.round(rand() * 10_000) / 100 });
    else if (r < 0.86) out.push({ type: 'feedback_vote', ts, terminal: 'exit', zone: rand() < 0.3 ? 'tills' : undefined, score: 1 + Math.floor(rand() * 5), scale: rand() < 0.5 ? 5 : 3 });
    else out.push({ type: 'sensor_reading', ts, sensor: 'temp', value: 20 + rand() });
    // A third of the steps stay on the same instant, a third land on a whole minute.
    const step = rand();
    if (step < 0.33) continue;
    ts = step < 0.66 ? (Math.floor(ts / MINUTE) + 1 + Math.floor(rand() * 4)) * MINUTE : ts + 1 + Math.floor(rand() * 90_000);
  }
  return out;
}

const RANGES: { from: number; to: number; size: BinSize }[] = [
  { from: at('07:00'), to: at('10:00'), size: '1m' },
  { from: at('07:58') + 17_000, to: at('08:09') + 5, size: '1m' }, // not on bin edges
  { from: at('00:00'), to: at('00:00', '2026-10-26'), size: '15m' },
  { from: at('00:00'), to: at('00:00', '2026-10-26'), size: '1h' }, // the 25-hour day
  { from: at('00:00'), to: at('00:00', '2026-10-26'), size: '1d' },
];

describe('KPI bins folded in one pass (issue 15)', () => {
  it('equals the computation that held every event, byte for byte, with and without a carry', () => {
    for (const seed of [1, 7, 2026]) {
      const all = events(seed);
      for (const range of RANGES) {
        const label = `seed ${seed}, ${range.size} from ${new Date(range.from).toISOString()}`;
        const expected = JSON.stringify(referenceComputeKpis(all, SETTINGS, range));
        expect(JSON.stringify(computeKpis(all, SETTINGS, range)), label).toBe(expected);
        // As the recorder does: the events before `from` folded, then only the range's, streamed once.
        // A range starting inside a bin is read from the bin's start (as /api/v1/kpis does).
        const start = binStart(range.from, range.size, SETTINGS.timeZone);
        const carry = foldKpiHistory(
          all.filter((e) => e.ts < start),
          SETTINGS,
          start,
        );
        const inRange = all.filter((e) => e.ts >= start && e.ts < range.to);
        const stream = (function* () {
          yield* inRange;
        })();
        expect(JSON.stringify(foldKpis(stream, SETTINGS, range, carry)), label).toBe(JSON.stringify(referenceComputeKpis(inRange, SETTINGS, { ...range, from: start }, carry)));
      }
    }
  });

  it('reads the events once, in the order given, without asking for them again', () => {
    const all = events(3);
    let read = 0;
    const once = {
      used: false,
      *[Symbol.iterator](): Generator<StoreEvent> {
        if (this.used) throw new Error('read twice');
        this.used = true;
        for (const e of all) {
          read += 1;
          yield e;
        }
      },
    };
    const range = { from: at('00:00'), to: at('00:00', '2026-10-25'), size: '1h' as const };
    const bins = foldKpis(once, SETTINGS, range, { occupancy: undefined, staff: [], planEvents: false });
    expect(read).toBe(all.length);
    expect(bins).toHaveLength(24);
    expect(bins.reduce((n, b) => n + b.transactions, 0)).toBe(all.filter((e) => e.type === 'pos_transaction' && e.ts < range.to).length);
  });

  it('refuses events out of time order instead of computing wrong occupancy', () => {
    const range = { from: at('09:00'), to: at('10:00'), size: '1h' as const };
    const late: StoreEvent[] = [
      { type: 'line_crossing', ts: at('09:30'), camera: 'door', line: 'entrance', direction: 'in' },
      { type: 'line_crossing', ts: at('09:10'), camera: 'door', line: 'entrance', direction: 'out' },
    ];
    expect(() => foldKpis(late, SETTINGS, range, { occupancy: undefined, staff: [], planEvents: false })).toThrow(/time order/);
    // computeKpis sorts first: any order is fine there.
    expect(computeKpis(late, SETTINGS, range)[0]!.occupancy).toEqual({ end: 1, max: 1 });
  });
});

/**
 * Issue 15: the KPI recorder no longer reads the whole day's events for every 1-minute bin. It
 * reads the bin's own events and folds the day before it (occupancy, staff presence, plan events)
 * while streaming it. These tests hold the folded computation to the original one — every bin equal
 * to computeKpis over all the events since the opening — and check what it keeps in memory.
 */
import { describe, expect, it } from 'vitest';
import type { StoreEvent } from '../../src/kpi/events.js';
import { computeKpis, foldKpiHistory, foldKpis, kpiHistoryStart, type KpiSettings } from '../../src/kpi/kpiEngine.js';
import { referenceComputeKpis } from '../kpi/referenceKpis.js';
import type { BinSize } from '../../src/kpi/timeBins.js';
import { DataStore } from '../../src/store/dataStore.js';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';

const at = (hhmm: string, day = '2026-11-23'): number => Date.parse(`${day}T${hhmm}:00+01:00`);

const SETTINGS: KpiSettings = {
  timeZone: 'Europe/Paris',
  openingTime: '08:00',
  entrances: [{ camera: 'door', line: 'entrance' }, { sensor: 'side-door' }, { planLine: 'front' }],
  engagedDwellMs: 30_000,
  bounceMs: 10_000,
  queueZones: [{ camera: 'door', zone: 'queue' }],
  plan: { queueZones: ['tills'] },
};

/** A deterministic busy day: every kind of event, entrances and not, from the evening before. */
function busyDay(): StoreEvent[] {
  let seed = 42;
  const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const events: StoreEvent[] = [];
  for (let ts = at('18:00', '2026-11-22'); ts < at('14:00'); ts += 7_000 + Math.floor(rand() * 20_000)) {
    const r = rand();
    const direction = rand() < 0.55 ? 'in' : 'out';
    if (r < 0.12) events.push({ type: 'line_crossing', ts, camera: 'door', line: 'entrance', direction });
    else if (r < 0.16) events.push({ type: 'line_crossing', ts, camera: 'door', line: 'pavement', direction });
    else if (r < 0.26) events.push({ type: 'door_count', ts, sensor: 'side-door', in: Math.floor(rand() * 3), out: Math.floor(rand() * 4) });
    else if (r < 0.32) events.push({ type: 'door_count', ts, sensor: 'back-door', in: 1, out: 0 });
    else if (r < 0.38) events.push({ type: 'plan_line_crossing', ts, line: 'front', direction });
    else if (r < 0.42) events.push({ type: 'staff_presence', ts, badge: `b${Math.floor(rand() * 4)}`, present: rand() < 0.6 });
    else if (r < 0.52) {
      const dwell = Math.floor(rand() * 400_000);
      events.push({ type: 'zone_visit', ts, camera: 'door', zone: rand() < 0.5 ? 'queue' : 'shelf', enter_ts: ts - dwell, dwell_ms: dwell, counted: dwell > 5_000 });
    } else if (r < 0.58) {
      const dwell = Math.floor(rand() * 300_000);
      events.push({ type: 'plan_zone_visit', ts, zone: rand() < 0.5 ? 'tills' : 'aisle', enter_ts: ts - dwell, dwell_ms: dwell, counted: dwell > 5_000 });
    } else if (r < 0.7) events.push({ type: 'pos_transaction', ts, register: 'till-1', amount: Math.round(rand() * 10_000) / 100 });
    else if (r < 0.8) events.push({ type: 'feedback_vote', ts, terminal: 'exit', score: 1 + Math.floor(rand() * 4), scale: 4 });
    else if (r < 0.9) events.push({ type: 'sensor_reading', ts, sensor: 'temp', value: 20 + rand() });
    else events.push({ type: 'beacon_presence', ts, beacon: 'trolley-1', present: rand() < 0.5 });
  }
  return events;
}

async function storeWith(events: StoreEvent[]): Promise<DataStore> {
  const dir = await tempDir('kpi-input');
  const parsed = parseConfig({ store_id: 's', gateway_id: 'g', data_dir: dir, timezone: 'Europe/Paris' }, {});
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const config = parsed.config;
  const store = DataStore.open({ ctx: testContext(), config: () => config });
  await Promise.all(events.map((e) => store.record(e)));
  return store;
}

describe('KPI input folded from the day so far (issue 15)', () => {
  it('gives the same bins as computing from every event since the opening', async () => {
    const store = await storeWith(busyDay());
    const cases: { from: number; to: number; size: BinSize }[] = [
      { from: at('07:59'), to: at('08:03'), size: '1m' }, // across the opening
      { from: at('08:00'), to: at('08:01'), size: '1m' }, // at the opening: nothing to carry
      { from: at('11:37'), to: at('11:42'), size: '1m' },
      { from: at('13:58'), to: at('14:00'), size: '1m' },
      { from: at('09:15'), to: at('10:00'), size: '15m' },
      { from: at('06:00'), to: at('13:00'), size: '1h' },
      { from: at('12:00'), to: at('14:00'), size: '1h' },
      { from: at('00:00'), to: at('00:00', '2026-11-24'), size: '1d' },
    ];
    for (const range of cases) {
      const dayEvents = store.events.eventsForKpis(kpiHistoryStart(range.from, SETTINGS), range.to);
      // The computation before the fold, kept as the oracle: every event since the opening in memory.
      const everything = referenceComputeKpis(dayEvents, SETTINGS, range);
      const label = `${range.size} from ${new Date(range.from).toISOString()}`;
      const input = store.events.kpiInput(range.from, range.to, SETTINGS);
      expect(foldKpis(input.events, SETTINGS, range, input.carry), label).toEqual(everything);
      expect(computeKpis(dayEvents, SETTINGS, range), label).toEqual(everything);
      // Byte for byte: the recorder compares stored bins as JSON to decide on a new revision.
      expect(JSON.stringify(computeKpis([...dayEvents].reverse(), SETTINGS, range)), label).toBe(JSON.stringify(everything));
    }
    // The busy day really has occupancy, staff and plan events to carry.
    const carry = store.events.kpiInput(at('12:00'), at('12:01'), SETTINGS).carry;
    expect(carry.occupancy?.value).toBeGreaterThan(0);
    expect(carry.staff.length).toBeGreaterThan(0);
    expect(carry.planEvents).toBe(true);
    await store.close();
  });

  it('reads only the bin itself and the events that carry state, never the rest of the day', async () => {
    const events = busyDay();
    const store = await storeWith(events);
    const from = at('12:00');
    const to = at('12:01');
    const input = store.events.kpiInput(from, to, SETTINGS);
    const read = [...input.events];
    const carry = input.carry;
    expect(read.length).toBeGreaterThan(0);
    expect(read.every((e) => e.ts >= from && e.ts < to)).toBe(true);
    // Sensor readings, beacons and door counters that are no entrance change no KPI: not read.
    expect(read.some((e) => e.type === 'sensor_reading' || e.type === 'beacon_presence' || (e.type === 'door_count' && e.sensor !== 'side-door'))).toBe(false);
    const inBin = events.filter((e) => e.ts >= from && e.ts < to && !['sensor_reading', 'beacon_presence'].includes(e.type) && !(e.type === 'door_count' && e.sensor === 'back-door'));
    expect(read).toHaveLength(inBin.length);
    // The day before the bin is a few numbers: one presence event per badge, one occupancy value.
    expect(carry.staff.length).toBeLessThanOrEqual(4);
    expect(new Set(carry.staff.map((s) => s.badge)).size).toBe(carry.staff.length);
    await store.close();
  });

  it('folds occupancy like the timeline: from 0 at the opening, never below 0', () => {
    const entrance = (ts: number, direction: 'in' | 'out'): StoreEvent => ({ type: 'line_crossing', ts, camera: 'door', line: 'entrance', direction });
    const history = [entrance(at('07:50'), 'in'), entrance(at('08:10'), 'out'), entrance(at('08:20'), 'in'), entrance(at('08:30'), 'in'), entrance(at('08:40'), 'out')];
    // 07:50 is before the opening: not part of the day.
    expect(foldKpiHistory(history.filter((e) => e.ts >= at('08:00')), SETTINGS, at('09:00')).occupancy).toEqual({ ts: at('08:40'), value: 1 });
    expect(foldKpiHistory([], SETTINGS, at('09:00'))).toEqual({ occupancy: undefined, staff: [], planEvents: false });
    // Events at or after `from` are not history.
    expect(foldKpiHistory(history.filter((e) => e.ts >= at('08:00')), SETTINGS, at('08:25')).occupancy).toEqual({ ts: at('08:20'), value: 1 });
    // Staff presence a day back: the last event per badge.
    const staff = foldKpiHistory(
      [
        { type: 'staff_presence', ts: at('19:00', '2026-11-22'), badge: 'a', present: true },
        { type: 'staff_presence', ts: at('07:00'), badge: 'b', present: true },
        { type: 'staff_presence', ts: at('08:30'), badge: 'a', present: false },
      ],
      SETTINGS,
      at('09:00'),
    ).staff;
    expect(staff.map((s) => [s.badge, s.present])).toEqual([
      ['b', true],
      ['a', false],
    ]);
  });
});

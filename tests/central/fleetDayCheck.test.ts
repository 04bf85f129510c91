/**
 * The fleet-day check (src/central/fleetDayCheck.ts) on hand-made days: a complete day passes, and
 * each kind of damage — a removed bin, a run of missing minutes at the end of the day, a duplicate,
 * a bin left at an older revision, rollups that disagree, a dead letter, a lost last message — fails
 * it and is named.
 */
import { describe, expect, it } from 'vitest';
import { FleetDayCheck, type StoredBin, type StoredGateway, type StoredStoreDay, type StoredStoreHour } from '../../src/central/fleetDayCheck.js';

const START = Date.UTC(2026, 10, 2);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const STORES = ['store-001', 'store-002', 'store-003'];
const MINUTES = 120;

/** A day as the gateways sent it and a database that stored it faithfully: every third bin revised. */
function day(): { bins: StoredBin[]; hours: StoredStoreHour[]; days: StoredStoreDay[]; gateways: StoredGateway[] } {
  const bins: StoredBin[] = [];
  for (const [s, storeId] of STORES.entries()) {
    for (let m = 0; m < MINUTES; m++) {
      const from = START + m * MINUTE;
      bins.push({ storeId, binSize: '1m', from, to: from + MINUTE, revision: m % 3 === 2 ? 2 : 1, trafficIn: (s * 7 + m) % 5 });
    }
    for (let h = 0; h < MINUTES / 60; h++) bins.push({ storeId, binSize: '1h', from: START + h * HOUR, to: START + (h + 1) * HOUR, revision: 1, trafficIn: 0 });
  }
  const hourly = STORES.flatMap((storeId) =>
    Array.from({ length: MINUTES / 60 }, (_, h): StoredStoreHour => {
      const hour = START + h * HOUR;
      const trafficIn = bins.filter((b) => b.storeId === storeId && b.binSize === '1m' && b.from >= hour && b.from < hour + HOUR).reduce((sum, b) => sum + b.trafficIn, 0);
      return { storeId, hour, bins: 1, trafficIn };
    }),
  );
  const days = STORES.map((storeId): StoredStoreDay => ({ storeId, day: START, traffic: hourly.filter((h) => h.storeId === storeId).map((h) => h.trafficIn).join(',') }));
  const gateways = STORES.map((storeId): StoredGateway => ({ storeId, lastSeq: 500, state: 'offline', reason: 'shutdown' }));
  return { bins, hours: hourly, days, gateways };
}

/** The check of `stored`, told that the gateways sent the faithful day (revision 1, then 2 where revised). */
function judge(stored: ReturnType<typeof day>, deadLetters = 0): ReturnType<FleetDayCheck['verdict']> {
  const sent = day();
  const check = new FleetDayCheck({ stores: STORES, start: START, minutes: MINUTES });
  for (const b of sent.bins) {
    if (b.binSize === '1h') check.sentHour(b.storeId, b.from);
    else {
      if (b.revision === 2) check.sent(b.storeId, b.from, 1, b.trafficIn - 1);
      check.sent(b.storeId, b.from, b.revision, b.trafficIn);
    }
  }
  for (const g of sent.gateways) check.sentGateway(g.storeId, g.lastSeq!, 'offline', 'shutdown');
  for (const b of stored.bins) check.stored(b);
  for (const h of stored.hours) check.storeHour(h);
  for (const d of stored.days) check.storeDay(d);
  for (const g of stored.gateways) check.storedGateway(g);
  return check.verdict({ kpiBinRows: stored.bins.length, kpiBinsSent: sent.bins.length, eventRows: 0, eventsSent: 0, deadLetters });
}

describe('fleet-day check', () => {
  it('passes a complete day, whatever the order the rows come in', () => {
    const stored = day();
    stored.bins.reverse();
    const v = judge(stored);
    expect(v.problems).toEqual([]);
    expect(v).toMatchObject({ noGap: true, ok: true, binsExpected: 360, binsSent: 360, binsStored: 360, storesComplete: 3, missing: 0, gapCount: 0, gaps: [], hourlyBinsStored: 6 });
    expect(v).toMatchObject({ rollupHoursChecked: 6, rollupHourMismatches: 0, rollupDaysChecked: 3, rollupDayMismatches: 0, gatewaysWrong: 0 });
  });

  it('reports a removed bin as a one-minute gap, and the rollup that no longer adds up', () => {
    const stored = day();
    const removed = stored.bins.findIndex((b) => b.storeId === 'store-002' && b.binSize === '1m' && b.from === START + 75 * MINUTE && b.trafficIn > 0);
    expect(removed).toBeGreaterThanOrEqual(0);
    stored.bins.splice(removed, 1);
    const v = judge(stored);
    expect(v.noGap).toBe(false);
    expect(v.ok).toBe(false);
    expect(v.missing).toBe(1);
    expect(v.gaps).toEqual([{ storeId: 'store-002', from: '2026-11-02T01:15:00.000Z', minutes: 1 }]);
    expect(v.storesComplete).toBe(2);
    // The hour still holds the gateway's total: it disagrees with the minutes now stored.
    expect(v.rollupHourMismatches).toBe(1);
    expect(v.problems.some((p) => p.startsWith('gap: store-002: 1 minute(s) missing from 2026-11-02T01:15:00.000Z'))).toBe(true);
    expect(v.problems.some((p) => p.startsWith('totals: kpi_bins has 365 rows, 366'))).toBe(true);
  });

  it('reports a run of missing minutes at the end of the day as one gap', () => {
    const stored = day();
    stored.bins = stored.bins.filter((b) => !(b.storeId === 'store-003' && b.binSize === '1m' && b.from >= START + (MINUTES - 3) * MINUTE));
    const v = judge(stored);
    expect(v.gaps).toEqual([{ storeId: 'store-003', from: new Date(START + (MINUTES - 3) * MINUTE).toISOString(), minutes: 3 }]);
    expect(v.missing).toBe(3);
    expect(v.noGap).toBe(false);
  });

  it('reports a duplicate, a bin below its highest revision and a bin with other traffic', () => {
    const stored = day();
    const bins1m = stored.bins.filter((b) => b.binSize === '1m');
    stored.bins.push({ ...bins1m[10]! });
    const revised = bins1m.find((b) => b.revision === 2)!;
    revised.revision = 1;
    bins1m[20]!.trafficIn += 1;
    const v = judge(stored);
    expect(v).toMatchObject({ noGap: false, ok: false, duplicates: 1, wrongRevision: 1, wrongTraffic: 1, missing: 0 });
  });

  it('fails a day without gaps when the rollups disagree, a letter is dead or a gateway lost its last message', () => {
    const hours = day();
    hours.hours[0]!.trafficIn += 1;
    expect(judge(hours)).toMatchObject({ noGap: true, ok: false, rollupHourMismatches: 1 });

    const days = day();
    days.days[1]!.traffic = '0';
    expect(judge(days)).toMatchObject({ noGap: true, ok: false, rollupDayMismatches: 1 });

    const noHourRow = day();
    noHourRow.hours.pop();
    expect(judge(noHourRow).problems.some((p) => p.includes('its 1-hour bin was sent, no store_hours row'))).toBe(true);

    const dead = judge(day(), 2);
    expect(dead).toMatchObject({ noGap: true, ok: false });
    expect(dead.problems).toEqual(['totals: 2 dead letter(s)']);

    const gateways = day();
    gateways.gateways[2]!.lastSeq = 499;
    expect(judge(gateways)).toMatchObject({ noGap: true, ok: false, gatewaysWrong: 1 });
  });

  it('counts rows outside the plan as unexpected', () => {
    const stored = day();
    stored.bins.push({ storeId: 'store-999', binSize: '1m', from: START, to: START + MINUTE, revision: 1, trafficIn: 0 });
    stored.bins.push({ storeId: 'store-001', binSize: '1m', from: START + MINUTES * MINUTE, to: START + (MINUTES + 1) * MINUTE, revision: 1, trafficIn: 0 });
    stored.bins.push({ storeId: 'store-001', binSize: '1m', from: START + 30_000, to: START + 90_000, revision: 1, trafficIn: 0 });
    const v = judge(stored);
    expect(v.unexpected).toBe(3);
    expect(v.noGap).toBe(true);
    expect(v.ok).toBe(false);
  });
});

/**
 * The store_hours rollup (migration 4) equals the raw aggregation of the gateways' 1-hour KPI bins
 * whatever the order of arrival: bins of two gateways of one store, a bin replaced by a higher
 * revision (in the same batch or a later one), a stale revision re-delivered after it, two writers
 * at once, bins deleted by hand, and a database that already held bins when it was migrated; the
 * same for store_days, the per-store-day series of migration 5. The fleet correlation read from the
 * rollups, over whole and partial UTC days, equals both the SQL function and a reference computation.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { planBatch, type ReceivedMessage } from '../../src/central/batchPlan.js';
import { writeBatch } from '../../src/central/batchWriter.js';
import { publications, simulatedFleet, simulateGateway, type SimulatedGateway } from '../../src/central/fleetSimulation.js';
import { footfallSalesCorrelation, type StoreCorrelation } from '../../src/central/fleetQueries.js';
import { migrate, MIGRATIONS } from '../../src/central/migrations.js';
import { PartitionKeeper } from '../../src/central/monthPartitions.js';
import { averageRanks as fastRanks, parseSeries } from '../../src/central/rankCorrelation.js';
import { postgresUnavailable, usePostgres } from '../helpers/postgres.js';
import { sql } from './centralHarness.js';
import { averageRanks, pearson, spearman } from './statistics.js';

// Crosses midnight UTC into December: the bins fall into two monthly partitions.
const START = Date.UTC(2026, 10, 30, 14, 0);
const HOURS = 14;
const NOW = START + (HOURS + 1) * 3_600_000;

interface Publication {
  topic: string;
  payload: string;
}

/** Three stores, the first with a second gateway (its rollup rows are the sum of two gateways). */
function fleetPublications(): Publication[] {
  const fleet: SimulatedGateway[] = [...simulatedFleet(3), { storeId: 'store-001', gatewayId: 'gw-101', databaseId: 'db101000', timeZone: 'Europe/Paris' }];
  return fleet.flatMap((gw, i) => publications(gw, simulateGateway(gw, { start: START, minutes: HOURS * 60, seed: 70 + i, hourly: true, reviseEvery: 7 }).messages, START));
}

/** A later revision of a KPI bin message: a late till event added a sale (and a visitor). */
function revised(p: Publication, revision: number, seq: number): Publication {
  const body = JSON.parse(p.payload) as { key: string; seq: number; data: { revision: number; kpis: { traffic: { in: number }; transactions: number; sales: number } } };
  body.key = body.key.replace(/:r\d+$/, `:r${revision}`);
  body.seq = seq;
  body.data.revision = revision;
  body.data.kpis.traffic.in += revision;
  body.data.kpis.transactions += 1;
  body.data.kpis.sales = Math.round((body.data.kpis.sales + 12.34 * revision) * 100) / 100;
  return { topic: p.topic, payload: JSON.stringify(body) };
}

const received = (ps: readonly Publication[]): ReceivedMessage[] => ps.map((p) => ({ topic: p.topic, payload: Buffer.from(p.payload), receivedAt: NOW }));

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** The rollup, and the same figures aggregated from kpi_bins at query time; sales as exact decimals. */
async function rollupAndRaw(url: string): Promise<{ rollup: unknown[]; raw: unknown[] }> {
  const rollup = await sql(url, 'SELECT hour, store_id, bins, traffic_in::int, traffic_out::int, transactions::int, sales::text FROM store_hours WHERE bins > 0 ORDER BY hour, store_id');
  const raw = await sql(
    url,
    `SELECT bin_from AS hour, store_id, count(*)::int AS bins, sum(traffic_in)::int AS traffic_in, sum(traffic_out)::int AS traffic_out,
            sum(transactions)::int AS transactions, sum(sales::numeric)::text AS sales
     FROM kpi_bins WHERE bin_size = '1h' GROUP BY bin_from, store_id ORDER BY bin_from, store_id COLLATE "C"`,
  );
  return { rollup, raw };
}

/**
 * store_days (hours > 0) and the same day series aggregated from store_hours at query time; a day
 * whose hours are all closed or deleted has no row in the latter and hours = 0 in the former.
 */
async function daysAndRaw(url: string): Promise<{ days: unknown[]; raw: unknown[]; empty: unknown[] }> {
  const days = await sql(url, 'SELECT day, store_id, hours, traffic, sales FROM store_days WHERE hours > 0 ORDER BY day, store_id');
  const raw = await sql(
    url,
    `SELECT date_trunc('day', hour, 'UTC') AS day, store_id, count(*)::int AS hours,
            string_agg(traffic_in::text, ',' ORDER BY hour) AS traffic, string_agg(sales::text, ',' ORDER BY hour) AS sales
     FROM store_hours WHERE bins > 0 AND (traffic_in > 0 OR transactions > 0) GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const empty = await sql(url, "SELECT day, store_id FROM store_days WHERE hours = 0 AND (traffic <> '' OR sales <> '')");
  return { days, raw, empty };
}

/** The fleet API's correlation over [from, to) against the SQL function and the reference statistics. */
async function expectCorrelationsAgree(url: string, from: Date, to: Date): Promise<StoreCorrelation[]> {
  const fast = await withClient(url, (c) => footfallSalesCorrelation(c, from, to));
  const viaSql = await sql<{ store_id: string; hours: number; pearson: number | null; spearman: number | null }>(url, 'SELECT * FROM fleet_footfall_sales_correlation($1, $2)', [from, to]);
  expect(fast.map((r) => [r.store_id, r.hours])).toEqual(viaSql.map((r) => [r.store_id, r.hours]));
  const hours = await sql<{ store_id: string; traffic_in: string; transactions: string; sales: number }>(url, 'SELECT store_id, traffic_in, transactions, sales FROM fleet_store_hours($1, $2)', [from, to]);
  for (const row of fast) {
    const sqlRow = viaSql.find((r) => r.store_id === row.store_id)!;
    const open = hours.filter((h) => h.store_id === row.store_id && (Number(h.traffic_in) > 0 || Number(h.transactions) > 0));
    expect(row.hours).toBe(open.length);
    const reference = { pearson: pearson(open.map((h) => Number(h.traffic_in)), open.map((h) => h.sales)), spearman: spearman(open.map((h) => Number(h.traffic_in)), open.map((h) => h.sales)) };
    for (const k of ['pearson', 'spearman'] as const) {
      if (reference[k] === null) {
        expect(row[k]).toBeNull();
        expect(sqlRow[k]).toBeNull();
      } else {
        expect(row[k]).toBeCloseTo(sqlRow[k]!, 9);
        expect(row[k]).toBeCloseTo(reference[k], 9);
      }
    }
  }
  return fast;
}

describe('fast average ranks', () => {
  it('equal the reference ranks, ties included', () => {
    const values = [5, 1, 5, 3, 5, 0, 1, 2.5, 2.5, 10];
    expect([...fastRanks(Float64Array.from(values))]).toEqual(averageRanks(values));
    // Whole numbers in a narrow range (the counting pass), and spread wide (the sort).
    const integers = [7, 3, 3, 0, 12, 7, 7, -2, 3];
    expect([...fastRanks(Float64Array.from(integers))]).toEqual(averageRanks(integers));
    const wide = [1e9, 5, 5, -1e9, 3e7, 5];
    expect([...fastRanks(Float64Array.from(wide))]).toEqual(averageRanks(wide));
    expect(fastRanks(new Float64Array(0))).toHaveLength(0);
  });

  it("parse PostgreSQL's number text exactly as Number() does", () => {
    expect([...parseSeries('1,2.50,0')]).toEqual([1, 2.5, 0]);
    expect(parseSeries('')).toHaveLength(0);
    const texts = ['0.1', '0.29', '1234.56', '-12.34', '-0', '007', '.5', '1.', '9007199254740993', '123456789012.345', '0.000000000000000001234', '1e+16', 'NaN', '12.3456789012345678'];
    const parsed = [...parseSeries(texts.join(','))];
    texts.forEach((t, i) => expect(Object.is(parsed[i], Number(t)), t).toBe(true));
    // Random cents, as numeric's text gives sales.
    const cents = Array.from({ length: 2000 }, (_, i) => (((i * 7919) % 100003) * (i % 2 ? 1 : 137)) / 100);
    const text = cents.map((c) => c.toFixed(2)).join(',');
    expect([...parseSeries(text)]).toEqual(text.split(',').map(Number));
  });
});

describe.skipIf(postgresUnavailable() !== undefined)('store_hours rollup (real PostgreSQL)', () => {
  const postgres = usePostgres();

  it('equals the raw aggregation through revisions, stale re-deliveries, two writers and deletions', async () => {
    const url = await postgres().createDatabase('store_hours');
    const all = fleetPublications();
    const hourly = all.filter((p) => p.topic.endsWith('/kpis/1h'));
    expect(hourly.length).toBe(4 * HOURS);
    // Revision 2 of every third hourly bin, revision 3 of every sixth; 1000+ keeps seq numbers apart.
    const second = hourly.filter((_, i) => i % 3 === 0).map((p, i) => revised(p, 2, 1000 + i));
    const third = hourly.filter((_, i) => i % 6 === 0).map((p, i) => revised(p, 3, 2000 + i));
    const keeper = new PartitionKeeper();
    await withClient(url, (c) => migrate(c));

    // Two writers at once, each with half of the fleet's messages (interleaved, so both touch the
    // same store-hours: store-001's two gateways land in different transactions).
    const halves = [all.filter((_, i) => i % 2 === 0), all.filter((_, i) => i % 2 === 1)];
    await Promise.all(halves.map((half) => withClient(url, (c) => writeBatch(c, planBatch(received(half), 'storepulse', NOW), keeper))));
    // Later batches: revisions 2 (replacing in place), then revision 3 together with revision 2 again
    // in one batch (planBatch keeps the highest), then the originals re-delivered (stale: no change).
    await withClient(url, (c) => writeBatch(c, planBatch(received(second), 'storepulse', NOW), keeper));
    await withClient(url, (c) => writeBatch(c, planBatch(received([...second, ...third]), 'storepulse', NOW), keeper));
    await withClient(url, (c) => writeBatch(c, planBatch(received(hourly), 'storepulse', NOW), keeper));

    const after = await rollupAndRaw(url);
    expect(after.rollup).toHaveLength(3 * HOURS);
    expect(after.rollup).toEqual(after.raw);
    // The day series too (two writers recomputing the same store-days lose neither's hours).
    const afterDays = await daysAndRaw(url);
    expect(afterDays.days.length).toBeGreaterThan(0);
    expect(afterDays.days).toEqual(afterDays.raw);
    expect(afterDays.empty).toEqual([]);
    // The replaced bins count at their highest revision, once.
    const [{ revisions }] = (await sql<{ revisions: string }>(url, "SELECT string_agg(DISTINCT revision::text, ',' ORDER BY revision::text) AS revisions FROM kpi_bins WHERE bin_size = '1h'")) as [{ revisions: string }];
    expect(revisions).toBe('1,2,3');
    const [{ bins }] = (await sql<{ bins: string }>(url, 'SELECT sum(bins) AS bins FROM store_hours')) as [{ bins: string }];
    expect(Number(bins)).toBe(hourly.length);

    // Bins deleted by hand (a gateway's data withdrawn) leave the rollup.
    await sql(url, "DELETE FROM kpi_bins WHERE gateway_id = 'gw-101' AND bin_from < $1", [new Date(START + 5 * 3_600_000)]);
    await sql(url, "DELETE FROM kpi_bins WHERE store_id = 'store-002' AND bin_size = '1h' AND bin_from = $1", [new Date(START)]);
    const deleted = await rollupAndRaw(url);
    expect(deleted.rollup).toEqual(deleted.raw);
    expect(deleted.rollup).toHaveLength(3 * HOURS - 1);
    const deletedDays = await daysAndRaw(url);
    expect(deletedDays.days).toEqual(deletedDays.raw);
    expect(deletedDays.empty).toEqual([]);
    expect(await sql(url, 'SELECT * FROM fleet_store_hours($1, $2) WHERE store_id = $3', [new Date(START), new Date(START + 3_600_000), 'store-002'])).toEqual([]);

    // A rebuild (after partitions were detached or repaired by hand) gives the same rows.
    await sql(url, 'UPDATE store_hours SET traffic_in = traffic_in + 1000');
    expect((await sql<{ n: string }>(url, 'SELECT store_hours_rebuild($1, $2) AS n', [new Date(START), new Date(NOW)]))[0]!.n).toBe(String(3 * HOURS - 1));
    const rebuilt = await rollupAndRaw(url);
    expect(rebuilt.rollup).toEqual(rebuilt.raw);
    const rebuiltDays = await daysAndRaw(url);
    expect(rebuiltDays.days).toEqual(rebuiltDays.raw);

    // The correlation read from the rollups: as the SQL function computes it, and as a reference does.
    const fast = await expectCorrelationsAgree(url, new Date(START), new Date(NOW));
    expect(fast.map((r) => r.store_id)).toEqual(['store-001', 'store-002', 'store-003']);
  });

  it('a database that already held 1-hour bins is rolled up when migrated to version 4', async () => {
    const url = await postgres().createDatabase('store_hours_backfill');
    const all = fleetPublications();
    await withClient(url, async (c) => {
      expect(await migrate(c, MIGRATIONS.slice(0, 3))).toEqual([1, 2, 3]);
      await writeBatch(c, planBatch(received(all), 'storepulse', NOW), new PartitionKeeper());
      expect(await migrate(c)).toEqual(MIGRATIONS.slice(3).map((m) => m.version));
    });
    const { rollup, raw } = await rollupAndRaw(url);
    expect(rollup).toHaveLength(3 * HOURS);
    expect(rollup).toEqual(raw);
  });

  it('a database that already had the hourly rollup gets its day series when migrated to version 5', async () => {
    const url = await postgres().createDatabase('store_days_backfill');
    await withClient(url, async (c) => {
      expect(await migrate(c, MIGRATIONS.slice(0, 4))).toEqual([1, 2, 3, 4]);
      await writeBatch(c, planBatch(received(fleetPublications()), 'storepulse', NOW), new PartitionKeeper());
      expect(await migrate(c)).toEqual(MIGRATIONS.slice(4).map((m) => m.version));
    });
    const { days, raw } = await daysAndRaw(url);
    expect(days).toHaveLength(6); // three stores, two UTC days
    expect(days).toEqual(raw);
    await expectCorrelationsAgree(url, new Date(START), new Date(NOW));
  });

  it('the correlation over whole and partial UTC days equals the SQL function and the reference', async () => {
    const url = await postgres().createDatabase('store_days_periods');
    const day0 = Date.UTC(2026, 10, 28);
    await withClient(url, async (c) => {
      await migrate(c);
      await new PartitionKeeper().ensure(c, 'kpi_bins', [new Date(Date.UTC(2026, 10, 1)), new Date(Date.UTC(2026, 11, 1))]);
      // Four days of 1-hour bins, deterministic: closed nights (zero traffic and sales), many ties,
      // sales with cents; store-2 has a second gateway; store-3 is open only in one hour of day 1 and
      // store-4 never, so whole days with no open hours occur; store-5's bins sit half past the hour
      // (a UTC+5:30 store).
      await c.query(
        `INSERT INTO kpi_bins (store_id, gateway_id, bin_size, bin_from, bin_to, time_zone, revision, key, seq, queued_at,
                               traffic_in, traffic_out, transactions, sales, kpis)
         SELECT 'store-' || s, 'gw-' || s || '-' || g, '1h', t, t + interval '1 hour', 'UTC', 1, s || ':' || g || ':' || extract(epoch FROM t), 1, t,
                v.traffic, v.traffic, v.buyers, v.buyers * 19.99 + (v.buyers % 3) * 0.5, '{}'::jsonb
         FROM generate_series(1, 5) s
         CROSS JOIN generate_series(1, 2) g
         CROSS JOIN generate_series($1::timestamptz, $1::timestamptz + interval '95 hours', interval '1 hour') t0
         CROSS JOIN LATERAL (SELECT CASE WHEN s = 5 THEN t0 + interval '30 minutes' ELSE t0 END AS t, extract(hour FROM t0)::int AS hod, extract(epoch FROM t0)::bigint / 3600 AS n) x
         CROSS JOIN LATERAL (SELECT CASE WHEN s = 4 THEN 0
                                         WHEN s = 3 THEN CASE WHEN x.t = $1::timestamptz + interval '33 hours' THEN 4 ELSE 0 END
                                         WHEN x.hod < 7 OR x.hod > 20 THEN 0
                                         ELSE (x.n * 7 + s * 13) % 11 END AS traffic) w
         CROSS JOIN LATERAL (SELECT w.traffic, (w.traffic * ((x.n + s) % 4)) / 5 AS buyers) v
         WHERE g = 1 OR s = 2`,
        [new Date(day0)],
      );
      // A withdrawn gateway-day: its hours drop out of store-2's rollup (the other gateway stays).
      await c.query("DELETE FROM kpi_bins WHERE gateway_id = 'gw-2-2' AND bin_from >= $1 AND bin_from < $2", [new Date(day0 + 24 * 3_600_000), new Date(day0 + 48 * 3_600_000)]);
    });
    const { days, raw, empty } = await daysAndRaw(url);
    expect(days).toEqual(raw);
    expect(empty).toEqual([]);
    expect(await sql(url, "SELECT count(*)::int AS n FROM store_days WHERE hours = 0 AND store_id = 'store-4'")).toEqual([{ n: 4 }]);

    const at = (hours: number): Date => new Date(day0 + hours * 3_600_000);
    const periods: [Date, Date][] = [
      [at(5.5), at(82)], // partial days at both ends, two whole days between
      [at(24), at(72)], // whole days only
      [at(0), at(96)], // everything
      [at(27), at(44)], // within one day
      [at(18), at(33)], // across midnight, no whole day
      [at(24.5), at(48)], // a half-past start: store-5's bins at 00:30 count, the others' from 01:00
    ];
    for (const [from, to] of periods) {
      const fast = await expectCorrelationsAgree(url, from, to);
      expect(fast.length).toBeGreaterThan(0);
    }
    // The whole period: every store but the one never open, store-3 with a single hour (no figures).
    const all = await withClient(url, (c) => footfallSalesCorrelation(c, at(0), at(96)));
    expect(all.map((r) => r.store_id)).toEqual(['store-1', 'store-2', 'store-3', 'store-5']);
    expect(all.find((r) => r.store_id === 'store-3')).toEqual({ store_id: 'store-3', hours: 1, pearson: null, spearman: null });
  });
});

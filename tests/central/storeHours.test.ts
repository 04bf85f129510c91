/**
 * The store_hours rollup (migration 4) equals the raw aggregation of the gateways' 1-hour KPI bins
 * whatever the order of arrival: bins of two gateways of one store, a bin replaced by a higher
 * revision (in the same batch or a later one), a stale revision re-delivered after it, two writers
 * at once, bins deleted by hand, and a database that already held bins when it was migrated. The
 * fleet correlation read from the rollup equals both the SQL function and a reference computation.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { planBatch, type ReceivedMessage } from '../../src/central/batchPlan.js';
import { writeBatch } from '../../src/central/batchWriter.js';
import { publications, simulatedFleet, simulateGateway, type SimulatedGateway } from '../../src/central/fleetSimulation.js';
import { footfallSalesCorrelation } from '../../src/central/fleetQueries.js';
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

describe('fast average ranks', () => {
  it('equal the reference ranks, ties included', () => {
    const values = [5, 1, 5, 3, 5, 0, 1, 2.5, 2.5, 10];
    expect([...fastRanks(Float64Array.from(values))]).toEqual(averageRanks(values));
    expect([...parseSeries('1,2.50,0')]).toEqual([1, 2.5, 0]);
    expect(parseSeries('')).toHaveLength(0);
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
    expect(await sql(url, 'SELECT * FROM fleet_store_hours($1, $2) WHERE store_id = $3', [new Date(START), new Date(START + 3_600_000), 'store-002'])).toEqual([]);

    // A rebuild (after partitions were detached or repaired by hand) gives the same rows.
    await sql(url, 'UPDATE store_hours SET traffic_in = traffic_in + 1000');
    expect((await sql<{ n: string }>(url, 'SELECT store_hours_rebuild($1, $2) AS n', [new Date(START), new Date(NOW)]))[0]!.n).toBe(String(3 * HOURS - 1));
    const rebuilt = await rollupAndRaw(url);
    expect(rebuilt.rollup).toEqual(rebuilt.raw);

    // The correlation read from the rollup: as the SQL function computes it, and as a reference does.
    const from = new Date(START);
    const to = new Date(NOW);
    const fast = await withClient(url, (c) => footfallSalesCorrelation(c, from, to));
    const viaSql = await sql<{ store_id: string; hours: number; pearson: number | null; spearman: number | null }>(url, 'SELECT * FROM fleet_footfall_sales_correlation($1, $2)', [from, to]);
    expect(fast.map((r) => [r.store_id, r.hours])).toEqual(viaSql.map((r) => [r.store_id, r.hours]));
    expect(fast.map((r) => r.store_id)).toEqual(['store-001', 'store-002', 'store-003']);
    const hours = await sql<{ store_id: string; traffic_in: string; transactions: string; sales: number }>(url, 'SELECT store_id, traffic_in, transactions, sales FROM fleet_store_hours($1, $2)', [from, to]);
    for (const row of fast) {
      const sqlRow = viaSql.find((r) => r.store_id === row.store_id)!;
      expect(row.pearson).toBeCloseTo(sqlRow.pearson!, 9);
      expect(row.spearman).toBeCloseTo(sqlRow.spearman!, 9);
      const open = hours.filter((h) => h.store_id === row.store_id && (Number(h.traffic_in) > 0 || Number(h.transactions) > 0));
      expect(row.hours).toBe(open.length);
      expect(row.pearson).toBeCloseTo(pearson(open.map((h) => Number(h.traffic_in)), open.map((h) => h.sales))!, 9);
      expect(row.spearman).toBeCloseTo(spearman(open.map((h) => Number(h.traffic_in)), open.map((h) => h.sales))!, 9);
    }
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
});

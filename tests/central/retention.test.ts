/**
 * Retention of central's rows (retention.ts) on a real PostgreSQL: expired 1-minute months go by
 * dropping their partition while recent bins and the other sizes stay (and the fleet analytics answer
 * as before); old months of the earlier one-table layout lose their expired rows in batches; a month
 * where every size has expired is dropped whole, its hourly rollups with it; one worker at a time; a
 * drop that cannot get its lock waits for the next run; a bad `retention` config is refused.
 */
import mqtt from 'mqtt';
import pg from 'pg';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseCentralConfig, type RetentionConfig } from '../../src/central/centralConfig.js';
import { createCentralMetrics } from '../../src/central/centralMetrics.js';
import { publications, simulatedFleet, simulateGateway } from '../../src/central/fleetSimulation.js';
import { footfallSalesCorrelation } from '../../src/central/fleetQueries.js';
import { migrate } from '../../src/central/migrations.js';
import { monthPartition, PartitionKeeper } from '../../src/central/monthPartitions.js';
import { planRetention, RETENTION_LOCK, RetentionJob, retentionCutoffs, retentionPolicy, runRetention, type RetentionPolicy } from '../../src/central/retention.js';
import { until } from '../helpers/gatewayHarness.js';
import { hasMosquitto } from '../helpers/mosquitto.js';
import { useMosquitto } from '../helpers/mosquittoSuite.js';
import { postgresUnavailable, usePostgres } from '../helpers/postgres.js';
import { sql, startWorker, tableCounts, workerConfig } from './centralHarness.js';

/** "Now" for the database tests: 2 December 2026. Default cutoffs: 1m 28 Oct 2026, 15m 28 Oct 2025. */
const NOW = Date.UTC(2026, 11, 2, 15, 0);
const DAY = 86_400_000;

function retentionConfig(retention: Record<string, unknown> = {}): RetentionConfig {
  const parsed = parseCentralConfig({ mqtt: { url: 'mqtt://broker' }, postgres: { url: 'postgres://central@db/storepulse' }, retention }, {});
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.config.retention;
}
const policyOf = (retention: Record<string, unknown> = {}): RetentionPolicy => retentionPolicy(retentionConfig(retention));
const retentionErrors = (retention: unknown): string[] => {
  const parsed = parseCentralConfig({ mqtt: { url: 'mqtt://broker' }, postgres: { url: 'postgres://central@db/storepulse' }, retention }, {});
  return parsed.ok ? [] : parsed.errors;
};

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

const utc = (y: number, m: number, d: number, h = 0): Date => new Date(Date.UTC(y, m - 1, d, h));
const months = (...ms: [number, number][]): Date[] => ms.map(([y, m]) => utc(y, m, 1));

/** The month partition as the version before retention made it: one plain table for every size. */
async function legacyMonth(c: pg.ClientBase, year: number, month: number): Promise<void> {
  const p = monthPartition('kpi_bins', utc(year, month, 1));
  await c.query(`CREATE TABLE ${p.name} PARTITION OF kpi_bins FOR VALUES FROM ('${p.from.toISOString()}') TO ('${p.to.toISOString()}')`);
}

/**
 * Bins of two stores on each of `days`, 09:00–17:00 UTC: the given sizes at every hour (the 1-day bin
 * at midnight), traffic and sales varying by hour so that the correlation has something to say.
 */
async function insertBins(c: pg.ClientBase, days: Date[], sizes: string[] = ['1m', '15m', '1h', '1d']): Promise<void> {
  await c.query(
    `INSERT INTO kpi_bins (store_id, gateway_id, bin_size, bin_from, bin_to, time_zone, revision, key, seq, queued_at,
                           traffic_in, traffic_out, transactions, sales, kpis)
     SELECT 'store-' || s, 'gw-' || s, z.size, x.t, x.t + z.len, 'UTC', 1, s || ':' || z.size || ':' || extract(epoch FROM x.t), 1, x.t,
            x.traffic, x.traffic, x.traffic / 4, (x.traffic / 4) * 12.5 + (x.h % 3), '{}'::jsonb
     FROM generate_series(1, 2) s
     CROSS JOIN unnest($1::timestamptz[]) AS d(day)
     CROSS JOIN generate_series(9, 17) AS g(hr)
     CROSS JOIN (VALUES ('1m', interval '1 minute'), ('15m', interval '15 minutes'), ('1h', interval '1 hour'), ('1d', interval '1 day')) z(size, len)
     CROSS JOIN LATERAL (SELECT CASE WHEN z.size = '1d' THEN d.day ELSE d.day + g.hr * interval '1 hour' END AS t, g.hr AS h, (g.hr * 7 + s * 5) % 13 + 2 AS traffic) x
     WHERE z.size = ANY($2::text[]) AND (z.size <> '1d' OR x.h = 9)`,
    [days, sizes],
  );
}

async function binCounts(url: string): Promise<Record<string, number>> {
  const rows = await sql<{ size: string; month: string; n: number }>(
    url,
    "SELECT bin_size AS size, to_char(bin_from AT TIME ZONE 'UTC', 'YYYY-MM') AS month, count(*)::int AS n FROM kpi_bins GROUP BY 1, 2 ORDER BY 2, 1",
  );
  return Object.fromEntries(rows.map((r) => [`${r.month} ${r.size}`, r.n]));
}

async function partitionsOf(url: string, parent: string): Promise<string[]> {
  const rows = await sql<{ name: string }>(url, 'SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1', [parent]);
  return rows.map((r) => r.name);
}

/** store_hours as the fleet functions see it, and the same computed from the 1-hour bins. */
async function rollupAndRaw(url: string): Promise<{ rollup: unknown[]; raw: unknown[]; days: unknown[]; rawDays: unknown[] }> {
  const rollup = await sql(url, 'SELECT hour, store_id, traffic_in::int, transactions::int, sales::float8 FROM store_hours WHERE bins > 0 ORDER BY 1, 2');
  const raw = await sql(
    url,
    "SELECT bin_from AS hour, store_id, sum(traffic_in)::int AS traffic_in, sum(transactions)::int AS transactions, sum(sales)::float8 AS sales FROM kpi_bins WHERE bin_size = '1h' GROUP BY 1, 2 ORDER BY 1, 2",
  );
  const days = await sql(url, 'SELECT day, store_id::text, hours FROM store_days WHERE hours > 0 ORDER BY 1, 2');
  const rawDays = await sql(
    url,
    "SELECT date_trunc('day', bin_from, 'UTC') AS day, store_id, count(*)::int AS hours FROM kpi_bins WHERE bin_size = '1h' AND (traffic_in > 0 OR transactions > 0) GROUP BY 1, 2 ORDER BY 1, 2",
  );
  return { rollup, raw, days, rawDays };
}

describe('retention config', () => {
  it('defaults: 1-minute bins 35 days, 15-minute 400, hourly and daily forever, dead letters 90 days, every hour', () => {
    expect(retentionConfig()).toEqual({
      enabled: true,
      kpi_1m_days: 35,
      kpi_15m_days: 400,
      kpi_1h_days: 'forever',
      kpi_1d_days: 'forever',
      events_days: 'forever',
      dead_letters_days: 90,
      interval_minutes: 60,
      delete_batch_rows: 5000,
    });
    expect(policyOf({ kpi_1h_days: 800 })).toEqual({ kpi: { '1m': 35, '15m': 400, '1h': 800, '1d': null }, events: null, deadLetters: 90 });
  });

  it('refuses bad values with the path and what is allowed', () => {
    const days = 'a whole number of days from 1 to 36500, or "forever"';
    expect(retentionErrors({ kpi_1m_days: 0 })).toEqual([`retention.kpi_1m_days: ${days}`]);
    expect(retentionErrors({ kpi_15m_days: 2.5, kpi_1h_days: 'never', dead_letters_days: -1, events_days: null })).toEqual([
      `retention.kpi_15m_days: ${days}`,
      `retention.kpi_1h_days: ${days}`,
      `retention.events_days: ${days}`,
      `retention.dead_letters_days: ${days}`,
    ]);
    expect(retentionErrors({ kpi_1m_days: '35' })).toEqual([`retention.kpi_1m_days: ${days}`]);
    expect(retentionErrors({ kpi_1m_day: 35 })).toEqual(['retention: Unrecognized key: "kpi_1m_day"']);
    expect(retentionErrors({ interval_minutes: 0 })).toHaveLength(1);
    expect(retentionErrors({ interval_minutes: 0 })[0]).toMatch(/^retention\.interval_minutes: /);
    expect(retentionErrors('35 days')).toHaveLength(1);
  });

  it('refuses finer bins kept longer than coarser ones (two values swapped)', () => {
    expect(retentionErrors({ kpi_1m_days: 400, kpi_15m_days: 35 })).toEqual([
      'retention: kpi_1m_days (400) is longer than kpi_15m_days (35): finer bins must not be kept longer than coarser ones',
    ]);
    expect(retentionErrors({ kpi_1h_days: 'forever', kpi_1d_days: 365 })).toEqual([
      'retention: kpi_1h_days (forever) is longer than kpi_1d_days (365): finer bins must not be kept longer than coarser ones',
    ]);
    expect(retentionErrors({ kpi_1m_days: 7, kpi_15m_days: 7, kpi_1h_days: 30, kpi_1d_days: 30 })).toEqual([]);
    expect(retentionErrors({ kpi_1m_days: 60, kpi_1h_days: 1100, kpi_1d_days: 'forever' })).toEqual([]); // README's example
  });

  it('cutoffs are UTC midnights; a month goes once its last day is older than the cutoff', () => {
    expect(retentionCutoffs(policyOf(), NOW)).toEqual({ kpi: { '1m': utc(2026, 10, 28), '15m': utc(2025, 10, 28), '1h': null, '1d': null }, events: null, deadLetters: utc(2026, 9, 3) });
    const cutoffs = retentionCutoffs(policyOf({ kpi_15m_days: 90, kpi_1h_days: 90, kpi_1d_days: 90 }), NOW);
    expect(cutoffs.kpi).toEqual({ '1m': utc(2026, 10, 28), '15m': utc(2026, 9, 3), '1h': utc(2026, 9, 3), '1d': utc(2026, 9, 3) });
    const bySize = (name: string) => ({ name, bySize: true, children: ['1m', '15m', '1h', '1d'].map((s) => `${name}_${s}`) });
    const plain = (name: string) => ({ name, bySize: false, children: [] });
    const actions = planRetention([bySize('kpi_bins_y2026m10'), plain('kpi_bins_y2026m09'), bySize('kpi_bins_y2026m08'), plain('kpi_bins_archive')], [plain('events_y2026m01')], cutoffs);
    expect(actions.map((a) => (a.kind === 'drop' ? `drop ${a.name}` : `delete ${a.size} from ${a.partition} before ${a.before.toISOString().slice(0, 10)}`))).toEqual([
      'drop kpi_bins_y2026m08', // every size expired: the month goes whole
      'delete 1m from kpi_bins_y2026m09 before 2026-10-01', // one table for every size: rows up to the cutoff, within the month
      'delete 15m from kpi_bins_y2026m09 before 2026-09-03',
      'delete 1h from kpi_bins_y2026m09 before 2026-09-03',
      'delete 1d from kpi_bins_y2026m09 before 2026-09-03',
      // October's 1-minute bins stay: the month ends after the cutoff. kpi_bins_archive is not a name this code makes; events are kept forever.
    ]);
    expect(planRetention([bySize('kpi_bins_y2026m09')], [], cutoffs).map((a) => a.kind === 'drop' && a.name)).toEqual(['kpi_bins_y2026m09_1m']);
  });
});

describe.skipIf(postgresUnavailable() !== undefined)('central retention (real PostgreSQL)', () => {
  const postgres = usePostgres();

  it('drops the months of 1-minute bins older than 35 days; keeps recent ones, the other sizes and every fleet answer', async () => {
    const url = await postgres().createDatabase('retention_1m');
    const days = [utc(2026, 8, 5), utc(2026, 8, 27), utc(2026, 9, 14), utc(2026, 10, 3), utc(2026, 10, 30), utc(2026, 11, 20), utc(2026, 12, 1)];
    await withClient(url, async (c) => {
      await migrate(c);
      await new PartitionKeeper().ensure(c, 'kpi_bins', months([2026, 8], [2026, 9], [2026, 10], [2026, 11], [2026, 12]));
      await insertBins(c, days);
    });
    const before = await binCounts(url);
    const period = [utc(2026, 8, 1), utc(2026, 12, 2)];
    const fleet = async () => ({
      correlation: await withClient(url, (c) => footfallSalesCorrelation(c, period[0]!, period[1]!)),
      ranking: await sql(url, 'SELECT * FROM fleet_conversion_ranking($1, $2)', period),
      hours: await sql(url, 'SELECT * FROM fleet_store_hours($1, $2) ORDER BY 1, 2', period),
    });
    const answersBefore = await fleet();
    expect(answersBefore.correlation.map((r) => r.store_id)).toEqual(['store-1', 'store-2']);
    expect(answersBefore.hours).toHaveLength(2 * 9 * days.length);

    const report = await withClient(url, (c) => runRetention(c, policyOf(), NOW));
    expect(report.ran).toBe(true);
    expect(report.dropped.map((d) => d.name)).toEqual(['kpi_bins_y2026m08_1m', 'kpi_bins_y2026m09_1m']);
    expect(report.dropped.every((d) => d.bytes > 0)).toBe(true);
    expect(report.deleted).toEqual({ kpi_bins: 0, store_hours: 0, store_days: 0, dead_letters: 0 });

    const after = await binCounts(url);
    const expected = Object.fromEntries(Object.entries(before).filter(([k]) => !/^2026-0[89] 1m$/.test(k)));
    expect(after).toEqual(expected);
    expect(after['2026-10 1m']).toBe(before['2026-10 1m']); // October holds bins from before and after the cutoff (28 Oct): its month is kept whole
    expect(await partitionsOf(url, 'kpi_bins_y2026m08')).toEqual(['kpi_bins_y2026m08_15m', 'kpi_bins_y2026m08_1d', 'kpi_bins_y2026m08_1h']);
    expect(await fleet()).toEqual(answersBefore);

    // Nothing more to do the next time; a late 1-minute bin of August re-creates its partition and goes at the next run.
    expect((await withClient(url, (c) => runRetention(c, policyOf(), NOW))).dropped).toEqual([]);
    await withClient(url, async (c) => {
      expect(await new PartitionKeeper().ensure(c, 'kpi_bins', months([2026, 8]))).toEqual(['kpi_bins_y2026m08_1m']);
      await insertBins(c, [utc(2026, 8, 6)], ['1m']);
    });
    expect((await binCounts(url))['2026-08 1m']).toBe(18);
    expect((await withClient(url, (c) => runRetention(c, policyOf(), NOW))).dropped.map((d) => d.name)).toEqual(['kpi_bins_y2026m08_1m']);
    expect(await binCounts(url)).toEqual(expected);
  });

  it('months of the earlier one-table layout: expired 1-minute rows are deleted in batches, up to the cutoff; the rest stays', async () => {
    const url = await postgres().createDatabase('retention_legacy');
    await withClient(url, async (c) => {
      await migrate(c);
      await legacyMonth(c, 2026, 9);
      await legacyMonth(c, 2026, 10);
      await new PartitionKeeper().ensure(c, 'kpi_bins', months([2026, 11])); // made by this version
      await insertBins(c, [utc(2026, 9, 10), utc(2026, 10, 20), utc(2026, 10, 27), utc(2026, 10, 28), utc(2026, 10, 30), utc(2026, 11, 2)]);
    });
    const before = await binCounts(url);
    const rollupBefore = await rollupAndRaw(url);

    const report = await withClient(url, (c) => runRetention(c, policyOf(), NOW, { batchRows: 7 }));
    expect(report.dropped).toEqual([]);
    // 18 1-minute bins a day (2 stores × 9 hours): 10 Sep, 20 and 27 Oct are before the cutoff (28 Oct).
    expect(report.deleted.kpi_bins).toBe(3 * 18);
    const left = await sql<{ day: Date; n: number }>(url, "SELECT date_trunc('day', bin_from, 'UTC') AS day, count(*)::int AS n FROM kpi_bins WHERE bin_size = '1m' GROUP BY 1 ORDER BY 1");
    expect(left).toEqual([
      { day: utc(2026, 10, 28), n: 18 },
      { day: utc(2026, 10, 30), n: 18 },
      { day: utc(2026, 11, 2), n: 18 },
    ]);
    const after = await binCounts(url);
    for (const key of Object.keys(before).filter((k) => !k.endsWith(' 1m'))) expect(after[key], key).toBe(before[key]);
    expect(await partitionsOf(url, 'kpi_bins')).toEqual(['kpi_bins_y2026m09', 'kpi_bins_y2026m10', 'kpi_bins_y2026m11']);
    const rollupAfter = await rollupAndRaw(url);
    expect(rollupAfter).toEqual(rollupBefore);
    expect(rollupAfter.rollup).toEqual(rollupAfter.raw);
  });

  it('a month where every size has expired is dropped whole, with its hourly rollups; events and dead letters by their own retention', async () => {
    const url = await postgres().createDatabase('retention_all_sizes');
    // 1m: 28 Oct, 15m: 3 Oct, 1h and 1d: 3 Sep, events: 3 Sep, dead letters: 90 days (3 Sep).
    const policy = policyOf({ kpi_15m_days: 60, kpi_1h_days: 90, kpi_1d_days: 90, events_days: 90 });
    await withClient(url, async (c) => {
      await migrate(c);
      await new PartitionKeeper().ensure(c, 'kpi_bins', months([2026, 7], [2026, 11]));
      await legacyMonth(c, 2026, 8);
      await legacyMonth(c, 2026, 9);
      await insertBins(c, [utc(2026, 7, 14), utc(2026, 8, 11), utc(2026, 9, 1), utc(2026, 9, 2), utc(2026, 9, 10), utc(2026, 11, 24)]);
      await new PartitionKeeper().ensure(c, 'events', months([2026, 7], [2026, 8], [2026, 9]));
      await c.query(
        `INSERT INTO events (store_id, gateway_id, key, seq, type, time, queued_at, data)
         SELECT 'store-1', 'gw-1', 'e' || n, n, 'door', t, t, '{}'::jsonb FROM unnest($1::timestamptz[]) WITH ORDINALITY AS x(t, n)`,
        [[utc(2026, 7, 14, 10), utc(2026, 8, 31, 23), utc(2026, 9, 1, 1)]],
      );
      await c.query(
        `INSERT INTO dead_letters (digest, topic, payload, reason, first_seen, last_seen, deliveries)
         VALUES ('\\x01', 't', '\\x00', 'old', '2026-05-01', '2026-08-01', 1), ('\\x02', 't', '\\x00', 'still coming', '2026-05-01', '2026-11-30', 9)`,
      );
    });
    const storeDaysBefore = await sql<{ day: Date }>(url, 'SELECT DISTINCT day FROM store_days ORDER BY 1');
    expect(storeDaysBefore.map((d) => d.day)).toEqual([utc(2026, 7, 14), utc(2026, 8, 11), utc(2026, 9, 1), utc(2026, 9, 2), utc(2026, 9, 10), utc(2026, 11, 24)]);

    const report = await withClient(url, (c) => runRetention(c, policy, NOW, { batchRows: 5 }));
    expect(report.dropped.map((d) => `${d.table} ${d.name}`)).toEqual(['kpi_bins kpi_bins_y2026m07', 'kpi_bins kpi_bins_y2026m08', 'events events_y2026m07', 'events events_y2026m08']);
    expect(await partitionsOf(url, 'kpi_bins')).toEqual(['kpi_bins_y2026m09', 'kpi_bins_y2026m11']);
    expect(await partitionsOf(url, 'events')).toEqual(['events_y2026m09']);
    expect(await sql(url, 'SELECT key FROM events')).toEqual([{ key: 'e3' }]);
    expect(await sql(url, 'SELECT reason FROM dead_letters')).toEqual([{ reason: 'still coming' }]);
    expect(report.deleted.dead_letters).toBe(1);

    // September (one-table layout) keeps its hourly and daily bins from 3 Sep on; every 1-minute and 15-minute bin of it is gone.
    const counts = await binCounts(url);
    expect(counts).toEqual({ '2026-09 1h': 18, '2026-09 1d': 2, '2026-11 1m': 18, '2026-11 15m': 18, '2026-11 1h': 18, '2026-11 1d': 2 });
    // The rollups lost exactly the hours and days whose bins went, and still add the bins up.
    const { rollup, raw, days, rawDays } = await rollupAndRaw(url);
    expect(rollup).toEqual(raw);
    expect(days).toEqual(rawDays);
    expect((await sql<{ day: Date }>(url, 'SELECT DISTINCT day FROM store_days ORDER BY 1')).map((d) => d.day)).toEqual([utc(2026, 9, 10), utc(2026, 11, 24)]);
    expect(await sql(url, 'SELECT count(*)::int AS n FROM store_hours WHERE hour < $1', [utc(2026, 9, 3)])).toEqual([{ n: 0 }]);
    expect(await withClient(url, (c) => footfallSalesCorrelation(c, utc(2026, 7, 1), utc(2026, 9, 3)))).toEqual([]);
    expect((await withClient(url, (c) => footfallSalesCorrelation(c, utc(2026, 7, 1), utc(2026, 12, 1)))).map((r) => r.hours)).toEqual([18, 18]);
  });

  it('one worker at a time: a second run while the first holds the lock does nothing', async () => {
    const url = await postgres().createDatabase('retention_two_workers');
    await withClient(url, async (c) => {
      await migrate(c);
      await new PartitionKeeper().ensure(c, 'kpi_bins', months([2026, 8]));
      await insertBins(c, [utc(2026, 8, 5)]);
    });
    const a = new pg.Client({ connectionString: url });
    const b = new pg.Client({ connectionString: url });
    await Promise.all([a.connect(), b.connect()]);
    try {
      let release!: () => void;
      let locked!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const hasLock = new Promise<void>((resolve) => (locked = resolve));
      const first = runRetention(a, policyOf(), NOW, {
        afterLock: async () => {
          locked();
          await held;
        },
      });
      await hasLock;
      const second = await runRetention(b, policyOf(), NOW);
      expect(second.ran).toBe(false);
      expect(second.dropped).toEqual([]);
      expect(await partitionsOf(url, 'kpi_bins_y2026m08')).toContain('kpi_bins_y2026m08_1m');
      release();
      const done = await first;
      expect(done.ran).toBe(true);
      expect(done.dropped.map((d) => d.name)).toEqual(['kpi_bins_y2026m08_1m']);
      // The lock was released: the other worker's next run gets it (and finds nothing left to do).
      expect(await runRetention(b, policyOf(), NOW)).toMatchObject({ ran: true, dropped: [] });
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('the job counts runs, skips and failures in the metrics, and never throws', async () => {
    const url = await postgres().createDatabase('retention_job');
    await withClient(url, (c) => migrate(c));
    const jobs: RetentionJob[] = [];
    const job = (metrics = createCentralMetrics(), connectionString = url): RetentionJob => {
      const j = new RetentionJob({
        config: retentionConfig(),
        connect: async () => {
          const client = new pg.Client({ connectionString });
          await client.connect();
          return client;
        },
        log: pino({ level: 'silent' }),
        metrics,
        now: () => NOW,
        pauseMs: 0,
      });
      jobs.push(j);
      return j;
    };
    const metrics = createCentralMetrics();
    const value = async (name: string, labels: Record<string, string> = {}): Promise<number | undefined> =>
      (await metrics.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;

    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(hashtext($1))', [RETENTION_LOCK]); // another worker's run
      expect(await job(metrics).runOnce()).toMatchObject({ ran: false });
      expect(await value('storepulse_central_retention_runs_total', { result: 'skipped' })).toBe(1);
      await holder.query('SELECT pg_advisory_unlock(hashtext($1))', [RETENTION_LOCK]);
    } finally {
      await holder.end();
    }
    expect(await job(metrics).runOnce()).toMatchObject({ ran: true });
    expect(await value('storepulse_central_retention_runs_total', { result: 'completed' })).toBe(1);
    expect(await value('storepulse_central_retention_last_run_timestamp_seconds')).toBe(NOW / 1000);

    const unreachable = url.replace(/:\d+\//, ':1/');
    await expect(job(metrics, unreachable).runOnce()).resolves.toBeUndefined();
    expect(await value('storepulse_central_retention_runs_total', { result: 'failed' })).toBe(1);
    expect(await value('storepulse_central_retention_errors_total', { kind: 'database' })).toBe(1);
    await Promise.all(jobs.map((j) => j.stop()));
  });

  it('a drop that cannot get its lock in time is left for the next run', async () => {
    const url = await postgres().createDatabase('retention_lock_timeout');
    await withClient(url, async (c) => {
      await migrate(c);
      await new PartitionKeeper().ensure(c, 'kpi_bins', months([2026, 8]));
      await insertBins(c, [utc(2026, 8, 5)], ['1m', '1h']);
    });
    const reader = new pg.Client({ connectionString: url });
    await reader.connect();
    try {
      // A long transaction that read the month (an analyst's query): the drop must not wait for it.
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM kpi_bins_y2026m08_1m');
      const blocked = await withClient(url, (c) => runRetention(c, policyOf(), NOW, { lockTimeoutMs: 50 }));
      expect(blocked).toMatchObject({ ran: true, dropped: [], lockTimeouts: ['kpi_bins_y2026m08_1m'] });
      await reader.query('COMMIT');
    } finally {
      await reader.end();
    }
    expect((await withClient(url, (c) => runRetention(c, policyOf(), NOW))).dropped.map((d) => d.name)).toEqual(['kpi_bins_y2026m08_1m']);
    expect(await binCounts(url)).toEqual({ '2026-08 1h': 18 });
  });
});

describe.skipIf(postgresUnavailable() !== undefined || !hasMosquitto())('retention in the ingest worker (real mosquitto, real PostgreSQL)', () => {
  const broker = useMosquitto();
  const postgres = usePostgres();

  it('runs at start: a month of 1-minute bins older than the retention goes, and the run is in the metrics', async () => {
    const url = await postgres().createDatabase('retention_worker');
    // Relative to the real clock: the worker's.
    const old = new Date(Date.now() - 120 * DAY);
    const month = monthPartition('kpi_bins', old);
    await withClient(url, async (c) => {
      await migrate(c);
      await new PartitionKeeper().ensure(c, 'kpi_bins', [month.from]);
      await insertBins(c, [month.from], ['1m', '1h']);
    });
    const { metrics } = await startWorker(workerConfig({ brokerUrl: broker().url, databaseUrl: url, clientId: 'retention-worker', retention: {} }));
    const completed = async () => (await metrics.registry.getSingleMetric('storepulse_central_retention_runs_total')!.get()).values.find((v) => v.labels.result === 'completed')?.value ?? 0;
    await until(completed, (n) => n >= 1, 30_000, 'a completed retention run');
    expect(await partitionsOf(url, month.name)).toEqual([`${month.name}_15m`, `${month.name}_1d`, `${month.name}_1h`]);
    const dropped = (await metrics.registry.getSingleMetric('storepulse_central_retention_partitions_dropped_total')!.get()).values;
    expect(dropped.map((v) => ({ table: v.labels.table, value: v.value }))).toEqual([{ table: 'kpi_bins', value: 1 }]);
    expect(await binCounts(url)).toEqual({ [month.from.toISOString().slice(0, 7) + ' 1h']: 18 });
  });

  it('a late bin of a month whose partition another worker dropped re-creates it: stored, not a dead letter', async () => {
    const url = await postgres().createDatabase('retention_late_bin');
    const [gw] = simulatedFleet(1);
    const start = Date.UTC(2026, 7, 10, 9, 0);
    const traffic = simulateGateway(gw!, { start, minutes: 6, seed: 4 });
    const messages = publications(gw!, traffic.messages, start + 7 * 60_000);
    const half = Math.floor(messages.length / 2);
    const { worker } = await startWorker(workerConfig({ brokerUrl: broker().url, databaseUrl: url, clientId: 'late-bin', group: 'late-bin' }));
    const publisher = await mqtt.connectAsync(broker().url, { clientId: 'late-bin-gateway', protocolVersion: 5 });
    try {
      await Promise.all(messages.slice(0, half).map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
      await until(() => worker.stats().acknowledged, (n) => n === half, 30_000, 'the first half stored');
      expect(await partitionsOf(url, 'kpi_bins_y2026m08')).toContain('kpi_bins_y2026m08_1m');
      await sql(url, 'DROP TABLE kpi_bins_y2026m08_1m'); // as another worker's retention does; this worker still believes it exists
      await Promise.all(messages.slice(half).map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
      await until(() => worker.stats().acknowledged, (n) => n === messages.length, 30_000, 'the rest stored');
    } finally {
      await publisher.endAsync();
    }
    const counts = await tableCounts(url);
    expect(counts.dead_letters).toBe(0);
    const firstHalfBins = messages.slice(0, half).filter((m) => m.topic.endsWith('/metrics/1m')).length;
    expect(counts.kpi_bins).toBe(traffic.kpiBins - firstHalfBins);
    expect(await partitionsOf(url, 'kpi_bins_y2026m08')).toContain('kpi_bins_y2026m08_1m');
  });
});

/**
 * npm run bench:central [-- --stores N] [--minutes M] [--fsync on|off] [--json]
 *
 * Ingest throughput of `storepulse central` on loopback: a real mosquitto and a real PostgreSQL
 * (fsync on by default, as in production), workers run as `storepulse central` processes.
 * For one worker, then two sharing the subscription:
 *  1. the workers subscribe, then stop cleanly (their persistent sessions stay on the broker);
 *  2. the simulated fleet's messages (N stores × M minutes of door counts, till events and 1-minute
 *     KPI bins with revisions, made by the gateway's KPI engine) are published: the broker queues them
 *     in the sessions, split between the workers;
 *  3. the workers start again and drain the backlog; the rate is messages / (last commit − first
 *     commit), from the rows' ingested_at (process start-up is not counted).
 * Then checks that every message landed once (rows per table equal to what the fleet sent).
 *
 * Fleet analytics: a database of S stores × D days of 1-hour KPI bins (default 500 × 90, made by SQL
 * with random traffic and sales that follow it, not by gateways), then the median of three runs of
 * the footfall–sales correlation and of the conversion ranking over the whole period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import pg from 'pg';
import { stringify } from 'yaml';
import { publications, simulatedFleet, simulateGateway } from '../src/central/fleetSimulation.js';
import { migrate } from '../src/central/migrations.js';
import { PartitionKeeper } from '../src/central/monthPartitions.js';
import { PROJECT_ROOT } from '../src/projectPaths.js';
import { terminate } from '../tests/helpers/childProcess.js';
import { tempDir, until } from '../tests/helpers/gatewayHarness.js';
import { hasMosquitto, Mosquitto } from '../tests/helpers/mosquitto.js';
import { Postgres, postgresUnavailable } from '../tests/helpers/postgres.js';

const { values } = parseArgs({
  options: {
    stores: { type: 'string', default: '200' },
    minutes: { type: 'string', default: '90' },
    fsync: { type: 'string', default: 'on' },
    'analytics-stores': { type: 'string', default: '500' },
    'analytics-days': { type: 'string', default: '90' },
    json: { type: 'boolean', default: false },
  },
});
if (!hasMosquitto()) throw new Error('needs mosquitto and openssl: deploy/setup.sh --test');
const unavailable = postgresUnavailable();
if (unavailable) throw new Error(unavailable);

const START = Date.UTC(2026, 10, 2, 8, 0);
const fleet = simulatedFleet(Number(values.stores));
const messages = fleet.flatMap((gw, i) => publications(gw, simulateGateway(gw, { start: START, minutes: Number(values.minutes), seed: i + 1, reviseEvery: 10 }).messages, START));

const broker = await Mosquitto.start();
const postgres = await Postgres.start({ fsync: values.fsync === 'on' });
const dir = await tempDir('bench-central');

async function query<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

function startWorker(configFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'central', '--config', configFile], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return until(() => output, (o) => o.includes('central: ingesting') || child.exitCode !== null, 60_000, 'worker subscribed').then(() => {
    if (child.exitCode !== null) throw new Error(`central exited: ${output}`);
    return child;
  });
}

async function publishAll(): Promise<void> {
  const client = await mqtt.connectAsync(broker.url, { clientId: 'bench-fleet', protocolVersion: 5 });
  const WINDOW = 1000;
  for (let i = 0; i < messages.length; i += WINDOW) {
    await Promise.all(messages.slice(i, i + WINDOW).map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })));
  }
  await client.endAsync();
}

interface Run {
  workers: number;
  messages: number;
  rate_per_s: number;
  drain_s: number;
  events: number;
  kpi_bins: number;
  dead_letters: number;
}

async function run(workers: number): Promise<Run> {
  const databaseUrl = await postgres.createDatabase(`bench_${workers}`);
  const files = Array.from({ length: workers }, (_, i) => {
    const file = path.join(dir, `central-${workers}-${i}.yaml`);
    writeFileSync(
      file,
      stringify({ mqtt: { url: broker.url, client_id: `bench-${workers}-${i}`, group: `bench-${workers}` }, postgres: { url: databaseUrl }, log_level: 'info' }),
    );
    return file;
  });
  // Sessions first, so that the broker queues the backlog for them.
  for (const child of await Promise.all(files.map(startWorker))) await terminate(child);
  await publishAll();
  const children = await Promise.all(files.map(startWorker));
  const expected = expectedRows();
  try {
    await until(
      async () => (await query<{ n: string }>(databaseUrl, 'SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM kpi_bins) AS n'))[0]!.n,
      (n) => Number(n) >= expected.events + expected.kpiBins,
      600_000,
      'backlog drained',
    );
  } finally {
    for (const child of children) await terminate(child);
  }
  const [span] = await query<{ first: Date; last: Date }>(
    databaseUrl,
    `SELECT least((SELECT min(ingested_at) FROM events), (SELECT min(ingested_at) FROM kpi_bins)) AS first,
            greatest((SELECT max(ingested_at) FROM events), (SELECT max(ingested_at) FROM kpi_bins)) AS last`,
  );
  const [counts] = await query<{ events: string; kpi_bins: string; dead_letters: string }>(
    databaseUrl,
    'SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM kpi_bins) AS kpi_bins, (SELECT count(*) FROM dead_letters) AS dead_letters',
  );
  const drainS = (span!.last.getTime() - span!.first.getTime()) / 1000;
  return {
    workers,
    messages: messages.length,
    rate_per_s: Math.round(messages.length / drainS),
    drain_s: Math.round(drainS * 100) / 100,
    events: Number(counts!.events),
    kpi_bins: Number(counts!.kpi_bins),
    dead_letters: Number(counts!.dead_letters),
  };
}

/** What the fleet sent: one events row per event message, one kpi_bins row per distinct bin. */
function expectedRows(): { events: number; kpiBins: number } {
  let events = 0;
  const bins = new Set<string>();
  for (const m of messages) {
    const body = JSON.parse(m.payload) as { kind: string; store_id: string; gateway_id: string; data: { bin?: string; from?: string } };
    if (body.kind === 'event') events += 1;
    else bins.add(`${body.store_id}/${body.gateway_id}/${body.data.bin}/${body.data.from}`);
  }
  return { events, kpiBins: bins.size };
}

/** Median milliseconds of three runs of each fleet query over a synthetic S stores × D days. */
async function analytics(stores: number, days: number): Promise<{ hourly_rows: number; correlation_ms: number; ranking_ms: number }> {
  const url = await postgres.createDatabase('bench_analytics');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await migrate(client);
    const from = new Date(Date.UTC(2026, 0, 1));
    const to = new Date(from.getTime() + days * 86_400_000);
    const months: Date[] = [];
    for (let m = new Date(from); m < to; m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1))) months.push(m);
    await new PartitionKeeper().ensure(client, 'kpi_bins', months);
    await client.query(
      `INSERT INTO kpi_bins (store_id, gateway_id, bin_size, bin_from, bin_to, time_zone, revision, key, seq, queued_at,
                             traffic_in, traffic_out, transactions, sales, kpis)
       SELECT 'store-' || s, 'gw-' || s, '1h', t, t + interval '1 hour', 'Europe/Paris', 1, s || ':' || extract(epoch FROM t), 1, t,
              v.visitors, v.visitors, v.buyers, v.buyers * 25.0, '{}'::jsonb
       FROM generate_series(1, $1::int) s
       CROSS JOIN generate_series($2::timestamptz, $3::timestamptz - interval '1 hour', interval '1 hour') t
       -- s and t appear in the lateral subquery so that random() is drawn for every row, not once.
       CROSS JOIN LATERAL (SELECT w.visitors, (w.visitors * (0.1 + random() * 0.2))::int AS buyers
                           FROM (SELECT (random() * 60 + s * 0 + extract(hour FROM t) * 0)::int AS visitors) w) v`,
      [stores, from, to],
    );
    await client.query('ANALYZE kpi_bins');
    const [{ n }] = (await client.query<{ n: string }>("SELECT count(*) AS n FROM kpi_bins WHERE bin_size = '1h'")).rows as [{ n: string }];
    const median = async (text: string): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const r = await client.query(text, [from, to]);
        times.push(performance.now() - t0);
        if (r.rowCount !== stores) throw new Error(`${text}: ${r.rowCount} rows, want ${stores}`);
      }
      return Math.round(times.sort((a, b) => a - b)[1]!);
    };
    return {
      hourly_rows: Number(n),
      correlation_ms: await median('SELECT * FROM fleet_footfall_sales_correlation($1, $2)'),
      ranking_ms: await median('SELECT * FROM fleet_conversion_ranking($1, $2)'),
    };
  } finally {
    await client.end();
  }
}

try {
  const expected = expectedRows();
  const one = await run(1);
  const two = await run(2);
  const loadBefore = os.loadavg()[0]!;
  const fleetQueries = await analytics(Number(values['analytics-stores']), Number(values['analytics-days']));
  const exact = [one, two].every((r) => r.events === expected.events && r.kpi_bins === expected.kpiBins && r.dead_letters === 0);
  const result = {
    stores: fleet.length,
    minutes: Number(values.minutes),
    messages: messages.length,
    fsync: values.fsync,
    cpus: os.cpus().length,
    one_worker_per_s: one.rate_per_s,
    two_workers_per_s: two.rate_per_s,
    speedup: Math.round((two.rate_per_s / one.rate_per_s) * 100) / 100,
    one_worker_drain_s: one.drain_s,
    two_workers_drain_s: two.drain_s,
    every_message_once: exact,
    analytics_stores: Number(values['analytics-stores']),
    analytics_days: Number(values['analytics-days']),
    ...fleetQueries,
    load_average_1m: Math.round(loadBefore * 10) / 10,
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`${result.messages} messages (${result.stores} stores × ${result.minutes} min), PostgreSQL fsync ${result.fsync}, ${result.cpus} CPUs`);
    console.log(`one worker:  ${result.one_worker_per_s} messages/s (${result.one_worker_drain_s} s)`);
    console.log(`two workers: ${result.two_workers_per_s} messages/s (${result.two_workers_drain_s} s), ${result.speedup}×`);
    console.log(`every message stored once: ${exact}`);
    console.log(
      `fleet analytics over ${result.analytics_stores} stores × ${result.analytics_days} days (${result.hourly_rows} hourly rows): correlation ${result.correlation_ms} ms, conversion ranking ${result.ranking_ms} ms`,
    );
    console.log(`(1-minute load average of this machine during the run: ${result.load_average_1m})`);
  }
  if (!exact) process.exitCode = 1;
} finally {
  await postgres.destroy();
  await broker.stop();
}

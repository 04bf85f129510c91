/**
 * npm run bench:central [-- --stores N] [--minutes M] [--fsync on|off] [--analytics-stores S] [--analytics-days D] [--analytics-only] [--json]
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
 * with random traffic and sales that follow it, not by gateways; the insert maintains the
 * store_hours and store_days rollups as the ingest does), then the median of three runs, over the
 * whole period, of: the footfall–sales correlation as the fleet API computes it (fleetQueries.ts: the
 * store_days series, Pearson and ranks in Node), the same from the SQL function
 * fleet_footfall_sales_correlation (ranks in PostgreSQL), and the conversion ranking. `--analytics-only` skips the ingest runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import pg from 'pg';
import { stringify } from 'yaml';
import { footfallSalesCorrelation } from '../src/central/fleetQueries.js';
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
    'analytics-only': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
if (!hasMosquitto()) throw new Error('needs mosquitto and openssl: deploy/setup.sh --test');
const unavailable = postgresUnavailable();
if (unavailable) throw new Error(unavailable);

const START = Date.UTC(2026, 10, 2, 8, 0);
const fleet = simulatedFleet(Number(values.stores));
// Not made for --analytics-only (simulating the fleet takes a while).
const messages = values['analytics-only'] ? [] : fleet.flatMap((gw, i) => publications(gw, simulateGateway(gw, { start: START, minutes: Number(values.minutes), seed: i + 1, reviseEvery: 10 }).messages, START));

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

/** CPU time (ms, user + system) a process has used, from /proc (Linux). */
function processCpuMs(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0; // gone
  }
}
const CLOCK_TICKS = 100;

function processes(): { pid: number; ppid: number; cmdline: string }[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
        return [{ pid: Number(d), ppid, cmdline: readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ') }];
      } catch {
        return [];
      }
    });
}

/**
 * CPU used so far by the workers, by every PostgreSQL process of the bench's server (backends,
 * WAL writer, checkpointer: found as the postmaster's children), by mosquitto, and by the whole
 * machine (busy and total jiffies of all cores, /proc/stat: other people's work included).
 */
function cpuSample(workers: ChildProcess[]): { workers: number; postgres: number; mosquitto: number; machineBusy: number; machineTotal: number } {
  const all = processes();
  const postmaster = all.find((p) => p.cmdline.includes(`${postgres.dir}/data`) && /(^|\/)postgres /.test(p.cmdline));
  const pgPids = postmaster ? [postmaster.pid, ...all.filter((p) => p.ppid === postmaster.pid).map((p) => p.pid)] : [];
  const mosquitto = all.filter((p) => p.cmdline.startsWith('mosquitto') && p.cmdline.includes(broker.dir));
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const jiffies = cpu!.trim().split(/\s+/).slice(1).map(Number);
  const idle = jiffies[3]! + jiffies[4]!;
  const total = jiffies.slice(0, 8).reduce((a, b) => a + b, 0);
  return {
    workers: workers.reduce((sum, c) => sum + processCpuMs(c.pid!), 0),
    postgres: pgPids.reduce((sum, pid) => sum + processCpuMs(pid), 0),
    mosquitto: mosquitto.reduce((sum, p) => sum + processCpuMs(p.pid), 0),
    machineBusy: total - idle,
    machineTotal: total,
  };
}

interface Run {
  cpu_ms_per_1000_messages: { workers: number; postgres: number; mosquitto: number };
  /** Share of the machine's CPU (all cores) busy during the drain, anyone's work. */
  machine_busy: number;
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
  const cpuBefore = cpuSample(children);
  let cpuAfter = cpuBefore;
  try {
    // Polled twice a second (each poll counts the tables: work PostgreSQL would otherwise not do).
    const deadline = Date.now() + 600_000;
    for (;;) {
      const [{ n }] = (await query<{ n: string }>(databaseUrl, 'SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM kpi_bins) AS n')) as [{ n: string }];
      if (Number(n) >= expected.events + expected.kpiBins) break;
      if (Date.now() > deadline) throw new Error(`backlog not drained after 10 minutes: ${n} rows`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    cpuAfter = cpuSample(children);
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
  const perThousand = (ms: number): number => Math.round((ms / messages.length) * 1000);
  return {
    workers,
    cpu_ms_per_1000_messages: {
      workers: perThousand(cpuAfter.workers - cpuBefore.workers),
      postgres: perThousand(cpuAfter.postgres - cpuBefore.postgres),
      mosquitto: perThousand(cpuAfter.mosquitto - cpuBefore.mosquitto),
    },
    machine_busy: Math.round(((cpuAfter.machineBusy - cpuBefore.machineBusy) / Math.max(1, cpuAfter.machineTotal - cpuBefore.machineTotal)) * 100) / 100,
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
async function analytics(stores: number, days: number): Promise<{ hourly_rows: number; correlation_ms: number; correlation_sql_ms: number; ranking_ms: number }> {
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
    // As autovacuum would soon after such a load (the rollups' statistics decide their query plans).
    await client.query('VACUUM ANALYZE kpi_bins, store_hours, store_days');
    const [{ n }] = (await client.query<{ n: string }>("SELECT count(*) AS n FROM kpi_bins WHERE bin_size = '1h'")).rows as [{ n: string }];
    const median = async (name: string, run: () => Promise<number>): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const rows = await run();
        times.push(performance.now() - t0);
        if (rows !== stores) throw new Error(`${name}: ${rows} rows, want ${stores}`);
      }
      return Math.round(times.sort((a, b) => a - b)[1]!);
    };
    const sqlRows = (text: string) => async (): Promise<number> => (await client.query(text, [from, to])).rowCount ?? 0;
    return {
      hourly_rows: Number(n),
      correlation_ms: await median('fleet API correlation', async () => (await footfallSalesCorrelation(client, from, to)).length),
      correlation_sql_ms: await median('SQL correlation', sqlRows('SELECT * FROM fleet_footfall_sales_correlation($1, $2)')),
      ranking_ms: await median('conversion ranking', sqlRows('SELECT * FROM fleet_conversion_ranking($1, $2)')),
    };
  } finally {
    await client.end();
  }
}

try {
  const loadAtStart = os.loadavg()[0]!;
  const ingest = values['analytics-only'] ? undefined : { expected: expectedRows(), one: await run(1), two: await run(2) };
  const loadBefore = os.loadavg()[0]!;
  const fleetQueries = await analytics(Number(values['analytics-stores']), Number(values['analytics-days']));
  const loadAfter = os.loadavg()[0]!;
  const exact = !ingest || [ingest.one, ingest.two].every((r) => r.events === ingest.expected.events && r.kpi_bins === ingest.expected.kpiBins && r.dead_letters === 0);
  const result = {
    cpus: os.cpus().length,
    ...(ingest
      ? {
          stores: fleet.length,
          minutes: Number(values.minutes),
          messages: messages.length,
          fsync: values.fsync,
          one_worker_per_s: ingest.one.rate_per_s,
          two_workers_per_s: ingest.two.rate_per_s,
          speedup: Math.round((ingest.two.rate_per_s / ingest.one.rate_per_s) * 100) / 100,
          one_worker_drain_s: ingest.one.drain_s,
          two_workers_drain_s: ingest.two.drain_s,
          // Where the CPU went during each drain, and how busy the whole machine was (anyone's work).
          one_worker_cpu_ms_per_1000: ingest.one.cpu_ms_per_1000_messages,
          two_workers_cpu_ms_per_1000: ingest.two.cpu_ms_per_1000_messages,
          one_worker_machine_busy: ingest.one.machine_busy,
          two_workers_machine_busy: ingest.two.machine_busy,
          every_message_once: exact,
        }
      : {}),
    analytics_stores: Number(values['analytics-stores']),
    analytics_days: Number(values['analytics-days']),
    ...fleetQueries,
    load_average_1m_start: Math.round(loadAtStart * 10) / 10,
    load_average_1m: Math.round(loadBefore * 10) / 10,
    load_average_1m_after_queries: Math.round(loadAfter * 10) / 10,
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    if (ingest) {
      console.log(`${messages.length} messages (${fleet.length} stores × ${values.minutes} min), PostgreSQL fsync ${values.fsync}, ${result.cpus} CPUs`);
      console.log(`one worker:  ${ingest.one.rate_per_s} messages/s (${ingest.one.drain_s} s)`);
      console.log(`two workers: ${ingest.two.rate_per_s} messages/s (${ingest.two.drain_s} s), ${result.speedup}×`);
      for (const r of [ingest.one, ingest.two]) {
        const c = r.cpu_ms_per_1000_messages;
        console.log(`  ${r.workers} worker(s): CPU ms per 1000 messages: workers ${c.workers}, PostgreSQL ${c.postgres}, mosquitto ${c.mosquitto}; machine ${Math.round(r.machine_busy * 100)} % busy`);
      }
      console.log(`every message stored once: ${exact}`);
    }
    console.log(
      `fleet analytics over ${result.analytics_stores} stores × ${result.analytics_days} days (${result.hourly_rows} hourly rows): correlation ${result.correlation_ms} ms (fleet API; the SQL function ${result.correlation_sql_ms} ms), conversion ranking ${result.ranking_ms} ms`,
    );
    console.log(`(1-minute load average of this machine: ${result.load_average_1m_start} at start, ${result.load_average_1m} before the queries, ${result.load_average_1m_after_queries} after)`);
  }
  if (!exact) process.exitCode = 1;
} finally {
  await postgres.destroy();
  await broker.stop();
}

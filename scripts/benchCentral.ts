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
 *
 * npm run bench:central -- --fleet-day [--stores 500] [--minutes 1440] [--workers 1] [--events] [--hourly on|off]
 *                          [--revise-every 10] [--window 1000] [--max-backlog 20000] [--withhold K] [--fsync on|off] [--json]
 *
 * Fleet day (issue 17: "500 stores × 1-minute KPI bins for a day ingests with no gap"): `--workers`
 * `storepulse central` processes subscribe first; then the fleet's day is simulated and published
 * live, minute by minute across all stores, in compressed time: each store's 1-minute KPI bin
 * (`metrics/1m`, made by the gateway's KPI engine, fleetSimulation.streamGateway), every
 * `--revise-every`-th bin again as revision 2 (a late till event), the 1-hour bin as each hour closes
 * (they feed the store_hours / store_days rollups; `--hourly off` leaves them out), `--events` the
 * door and till events too, and each gateway's retained status (online at the start of the day,
 * offline/shutdown at its end). Nothing is built for the whole day: one minute of the fleet at a time.
 * Flow control: QoS 1 with at most `--window` publications awaiting the broker's PUBACK, and the
 * publisher pauses while more than `--max-backlog` messages are published but not yet committed (from
 * the gateways table's last_seq, polled): as fast as the workers keep up, never flooding the broker.
 * After the drain, the check (src/central/fleetDayCheck.ts) reads everything back: every store has
 * one bin per minute, contiguous, at its highest revision and with the traffic sent; rows equal what
 * was sent; no dead letters; store_hours and store_days equal the stored 1-minute bins summed; each
 * gateway's last_seq and final status arrived. Exit status 1 on any gap or other problem.
 * `--withhold K` leaves K store-minutes' bins unpublished: the check must then report K minutes missing.
 * Reports messages, wall time (first publication → last commit), messages/s, peak backlog (published,
 * not committed) and mosquitto's peak message store ($SYS, every 10 s), the workers' RSS, CPU per
 * component (the simulator included: it shares the machine), and the database's size.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import pg from 'pg';
import { stringify } from 'yaml';
import { FleetDayCheck, type FleetDayVerdict } from '../src/central/fleetDayCheck.js';
import { footfallSalesCorrelation } from '../src/central/fleetQueries.js';
import { publications, simulatedFleet, simulateGateway, statusPublication, streamGateway } from '../src/central/fleetSimulation.js';
import { seededRandom } from '../src/common/seededRandom.js';
import { migrate } from '../src/central/migrations.js';
import { PartitionKeeper } from '../src/central/monthPartitions.js';
import { PROJECT_ROOT } from '../src/projectPaths.js';
import { terminate } from '../tests/helpers/childProcess.js';
import { tempDir, until } from '../tests/helpers/gatewayHarness.js';
import { hasMosquitto, Mosquitto } from '../tests/helpers/mosquitto.js';
import { Postgres, postgresUnavailable } from '../tests/helpers/postgres.js';

const { values } = parseArgs({
  options: {
    // Defaults depend on the mode: 200 stores × 90 minutes, or 500 × 1440 for --fleet-day.
    stores: { type: 'string' },
    minutes: { type: 'string' },
    fsync: { type: 'string', default: 'on' },
    'fleet-day': { type: 'boolean', default: false },
    workers: { type: 'string', default: '1' },
    events: { type: 'boolean', default: false },
    hourly: { type: 'string', default: 'on' },
    'revise-every': { type: 'string', default: '10' },
    window: { type: 'string', default: '1000' },
    'max-backlog': { type: 'string', default: '20000' },
    withhold: { type: 'string', default: '0' },
    'analytics-stores': { type: 'string', default: '500' },
    'analytics-days': { type: 'string', default: '90' },
    'analytics-only': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
if (!hasMosquitto()) throw new Error('needs mosquitto and openssl: deploy/setup.sh --test');
const unavailable = postgresUnavailable();
if (unavailable) throw new Error(unavailable);

const fleetDayMode = values['fleet-day'];
const STORES = Number(values.stores ?? (fleetDayMode ? 500 : 200));
const MINUTES = Number(values.minutes ?? (fleetDayMode ? 1440 : 90));
const START = Date.UTC(2026, 10, 2, 8, 0);
const fleet = simulatedFleet(STORES);
// Not made for --analytics-only (simulating the fleet takes a while) nor for --fleet-day (streamed).
const messages = values['analytics-only'] || fleetDayMode ? [] : fleet.flatMap((gw, i) => publications(gw, simulateGateway(gw, { start: START, minutes: MINUTES, seed: i + 1, reviseEvery: 10 }).messages, START));

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
      // The benchmark's messages carry fixed dates: retention must not drop them as the calendar moves on.
      stringify({ mqtt: { url: broker.url, client_id: `bench-${workers}-${i}`, group: `bench-${workers}` }, postgres: { url: databaseUrl }, retention: { enabled: false }, log_level: 'info' }),
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

async function ingestAndAnalytics(): Promise<void> {
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
          minutes: MINUTES,
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
      console.log(`${messages.length} messages (${fleet.length} stores × ${MINUTES} min), PostgreSQL fsync ${values.fsync}, ${result.cpus} CPUs`);
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
}

// ---------------------------------------------------------------------------------------------
// --fleet-day: a whole day of the fleet, streamed live, then checked for gaps.

const FLEET_DAY = Date.UTC(2026, 10, 2); // a UTC day: its 24 hours are exactly one store_days row per store
const TOPIC_ROOT = 'storepulse';

/**
 * QoS 1 publications with at most `size` awaiting the broker's PUBACK: `publish` returns at once while
 * there is room, and waits for a free slot otherwise. A refused publication fails the bench.
 */
class PublishWindow {
  private inFlight = 0;
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly client: mqtt.MqttClient,
    private readonly size: number,
  ) {}

  get pending(): number {
    return this.inFlight;
  }

  async publish(topic: string, payload: string, retain = false): Promise<void> {
    while (this.inFlight >= this.size) await new Promise<void>((resolve) => (this.waiting = resolve));
    if (this.failure) throw this.failure;
    this.inFlight += 1;
    this.client.publish(topic, payload, { qos: 1, retain }, (err) => {
      this.inFlight -= 1;
      if (err) this.failure ??= err;
      const wake = this.waiting;
      this.waiting = undefined;
      wake?.();
    });
  }

  /** Resolves once the broker acknowledged everything published. */
  async settle(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((resolve) => (this.waiting = resolve));
    if (this.failure) throw this.failure;
  }
}

/** Resident set size of a process in MB (/proc, Linux), 0 when it is gone. */
function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : 0;
  } catch {
    return 0;
  }
}

/**
 * What the workers have committed, polled while the fleet publishes: the gateways' last_seq summed
 * (each data message carries its gateway's next seq, so this counts committed messages; 500 rows to
 * read, unlike counting kpi_bins), and the workers' RSS and the peak backlog meanwhile.
 */
class DrainMonitor {
  committed = 0;
  lastProgressAt = Date.now();
  peakBacklog = 0;
  peakRssMb = 0;
  private readonly client: pg.Client;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    databaseUrl: string,
    private readonly workers: ChildProcess[],
    /** Data messages handed to the broker and acknowledged by it so far. */
    private readonly published: () => number,
  ) {
    this.client = new pg.Client({ connectionString: databaseUrl });
  }

  async start(): Promise<void> {
    await this.client.connect();
    this.timer = setInterval(() => void (this.polling ??= this.poll().finally(() => (this.polling = undefined))), 250);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
    await this.client.end();
  }

  private async poll(): Promise<void> {
    const [row] = (await this.client.query<{ n: string | null }>('SELECT sum(last_seq) AS n FROM gateways')).rows;
    const committed = Number(row?.n ?? 0);
    if (committed !== this.committed) this.lastProgressAt = Date.now();
    this.committed = committed;
    this.peakBacklog = Math.max(this.peakBacklog, this.published() - committed);
    this.peakRssMb = Math.max(this.peakRssMb, ...this.workers.map((w) => rssMb(w.pid!)));
  }
}

interface FleetDayResult {
  mode: 'fleet-day';
  cpus: number;
  stores: number;
  minutes: number;
  workers: number;
  fsync: string;
  /** Everything published: bins, revisions, hourly bins, statuses (and events with --events). */
  messages: number;
  bins_1m: number;
  revisions: number;
  bins_1h: number;
  events: number;
  statuses: number;
  withheld: number;
  /** Handing every message to the broker (simulation included). */
  publish_s: number;
  /** First publication → last commit. */
  wall_s: number;
  rate_per_s: number;
  /** Published (acknowledged by the broker) and not yet committed, polled every 250 ms. */
  peak_backlog: number;
  /** mosquitto's $SYS/broker/store/messages/count (retained statuses included; sampled every 10 s). */
  peak_broker_store: number | null;
  worker_rss_mb_peak: number;
  worker_rss_mb_end: number;
  /** After each quarter of the day was published; the last one after the drain. */
  worker_rss_mb_by_quarter: number[];
  /** `simulator`: this process, simulating the fleet and publishing (it shares the machine with the rest). */
  cpu_ms_per_1000_messages: { workers: number; postgres: number; mosquitto: number; simulator: number };
  machine_busy: number;
  database_mb: number;
  kpi_bins_mb: number;
  load_average_1m_start: number;
  load_average_1m_end: number;
  verdict: FleetDayVerdict;
}

/** `k` distinct store-minutes (never a store's last minute: its last seq tells when the drain is over). */
function withheldCells(stores: number, minutes: number, k: number): Set<number> {
  const random = seededRandom(17);
  const cells = new Set<number>();
  while (cells.size < Math.min(k, stores * (minutes - 1))) cells.add(Math.floor(random() * stores) * minutes + Math.floor(random() * (minutes - 1)));
  return cells;
}

async function fleetDay(): Promise<FleetDayResult> {
  const workerCount = Number(values.workers);
  const loadAtStart = os.loadavg()[0]!;

  const databaseUrl = await postgres.createDatabase('fleet_day');
  const files = Array.from({ length: workerCount }, (_, i) => {
    const file = path.join(dir, `fleet-day-${i}.yaml`);
    // A fixed day of the past (FLEET_DAY): retention must not drop it while it is checked.
    writeFileSync(file, stringify({ mqtt: { url: broker.url, client_id: `fleet-day-${i}`, group: 'fleet-day', topic_root: TOPIC_ROOT }, postgres: { url: databaseUrl }, retention: { enabled: false }, log_level: 'info' }));
    return file;
  });
  const workers = await Promise.all(files.map(startWorker));
  const check = new FleetDayCheck({ stores: fleet.map((gw) => gw.storeId), start: FLEET_DAY, minutes: MINUTES });
  try {
    const cpuBefore = cpuSample(workers);
    const simulatorBefore = process.cpuUsage();
    const t0 = Date.now();
    const sent = await publishFleetDay(databaseUrl, workers, check);
    const simulatorMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(simulatorBefore));
    await waitForFinalRows(databaseUrl, sent.kpiBinsSent, sent.revisionSum, sent.counts.events);
    const cpuAfter = cpuSample(workers);
    const rssEnd = Math.max(...workers.map((w) => rssMb(w.pid!)));
    for (const child of workers.splice(0)) await terminate(child);

    const [span] = await query<{ last: Date | null }>(databaseUrl, 'SELECT greatest((SELECT max(ingested_at) FROM kpi_bins), (SELECT max(ingested_at) FROM events)) AS last');
    const wallS = ((span!.last?.getTime() ?? Date.now()) - t0) / 1000;
    const verdict = await readBack(databaseUrl, check, sent.kpiBinsSent, sent.counts.events);
    const [size] = await query<{ database: string; kpi_bins: string }>(
      databaseUrl,
      "SELECT pg_database_size(current_database()) AS database, (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('kpi_bins')) AS kpi_bins",
    );
    const c = sent.counts;
    const messagesSent = c.bins1m + c.revisions + c.bins1h + c.events + c.statuses;
    const perThousand = (ms: number): number => Math.round((ms / messagesSent) * 1000);
    const mb = (bytes: string): number => Math.round(Number(bytes) / 1048576);
    return {
      mode: 'fleet-day',
      cpus: os.cpus().length,
      stores: fleet.length,
      minutes: MINUTES,
      workers: workerCount,
      fsync: values.fsync!,
      messages: messagesSent,
      bins_1m: c.bins1m,
      revisions: c.revisions,
      bins_1h: c.bins1h,
      events: c.events,
      statuses: c.statuses,
      withheld: sent.withheldBins,
      publish_s: Math.round(sent.publishS * 10) / 10,
      wall_s: Math.round(wallS * 10) / 10,
      rate_per_s: Math.round(messagesSent / wallS),
      peak_backlog: sent.peakBacklog,
      peak_broker_store: sent.peakBrokerStore,
      worker_rss_mb_peak: Math.max(sent.peakRssMb, rssEnd),
      worker_rss_mb_end: rssEnd,
      worker_rss_mb_by_quarter: [...sent.rssByQuarter, rssEnd],
      cpu_ms_per_1000_messages: {
        workers: perThousand(cpuAfter.workers - cpuBefore.workers),
        postgres: perThousand(cpuAfter.postgres - cpuBefore.postgres),
        mosquitto: perThousand(cpuAfter.mosquitto - cpuBefore.mosquitto),
        simulator: perThousand(simulatorMs),
      },
      machine_busy: Math.round(((cpuAfter.machineBusy - cpuBefore.machineBusy) / Math.max(1, cpuAfter.machineTotal - cpuBefore.machineTotal)) * 100) / 100,
      database_mb: mb(size!.database),
      kpi_bins_mb: mb(size!.kpi_bins),
      load_average_1m_start: Math.round(loadAtStart * 10) / 10,
      load_average_1m_end: Math.round(os.loadavg()[0]! * 10) / 10,
      verdict,
    };
  } finally {
    for (const child of workers) await terminate(child);
  }
}

interface FleetDaySent {
  counts: { bins1m: number; revisions: number; bins1h: number; events: number; statuses: number };
  /** Distinct kpi_bins rows the fleet's messages make, and the sum of their highest revisions. */
  kpiBinsSent: number;
  revisionSum: number;
  withheldBins: number;
  /** Until the broker acknowledged the last publication. */
  publishS: number;
  peakBacklog: number;
  peakBrokerStore: number | null;
  peakRssMb: number;
  /** The workers' largest RSS after each quarter of the day was published. */
  rssByQuarter: number[];
}

/**
 * Streams the fleet's day to the broker, minute by minute across all stores, and tells `check` what
 * each gateway sent. Resolves once the broker has acknowledged everything.
 */
async function publishFleetDay(databaseUrl: string, workers: ChildProcess[], check: FleetDayCheck): Promise<FleetDaySent> {
  const maxBacklog = Number(values['max-backlog']);
  const reviseEvery = Number(values['revise-every']);
  const hourly = values.hourly === 'on';
  const withheld = withheldCells(fleet.length, MINUTES, Number(values.withhold));
  const client = await mqtt.connectAsync(broker.url, { clientId: 'fleet-day-gateways', protocolVersion: 5 });
  let peakBrokerStore: number | null = null;
  client.on('message', (topic, payload) => {
    if (topic === '$SYS/broker/store/messages/count') peakBrokerStore = Math.max(peakBrokerStore ?? 0, Number(payload.toString()));
  });
  await client.subscribeAsync('$SYS/broker/store/messages/count', { qos: 0 });
  const out = new PublishWindow(client, Number(values.window));
  const counts = { bins1m: 0, revisions: 0, bins1h: 0, events: 0, statuses: 0 };
  const rssByQuarter: number[] = [];
  let revisionSum = 0;
  // Each gateway's next seq. A withheld bin uses its seq up, as a message lost on the way would.
  const seq = new Array<number>(fleet.length).fill(1);
  // Data messages (statuses carry no seq) handed to the publisher, and those the broker acknowledged.
  let handed = 0;
  const t0 = Date.now();
  let publishS = 0;
  const published = (): number => handed - out.pending;
  const monitor = new DrainMonitor(databaseUrl, workers, published);
  await monitor.start();
  const publishStatus = async (state: 'online' | 'offline', at: number): Promise<void> => {
    for (const gw of fleet) {
      const p = statusPublication(gw, state, at, state === 'offline' ? 'shutdown' : undefined, TOPIC_ROOT);
      await out.publish(p.topic, p.payload, true);
      counts.statuses += 1;
    }
  };

  try {
    await publishStatus('online', FLEET_DAY);
    const days = fleet.map((gw, i) => streamGateway(gw, { start: FLEET_DAY, minutes: MINUTES, seed: i + 1, reviseEvery, hourly }));
    for (let minute = 0; minute < MINUTES; minute++) {
      // The workers' RSS after each quarter of the day: does it level off or keep growing?
      if (minute > 0 && minute % Math.ceil(MINUTES / 4) === 0) rssByQuarter.push(Math.max(...workers.map((w) => rssMb(w.pid!))));
      // Live pacing: never more than max-backlog messages ahead of the workers' commits.
      while (published() - monitor.committed > maxBacklog) await new Promise((r) => setTimeout(r, 20));
      for (let s = 0; s < fleet.length; s++) {
        const gw = fleet[s]!;
        const simulated = days[s]!.next();
        if (simulated.done) throw new Error(`${gw.storeId}: the simulation ended early`);
        const { from, messages: outbox, bin, hour } = simulated.value;
        const hold = withheld.has(s * MINUTES + minute);
        // What this gateway publishes (without events unless asked for: a gateway configured to send
        // KPIs only), numbered on from its last seq; withheld bins keep their seq, as if lost on the way.
        const outgoing = outbox.filter((m) => m.kind !== 'event' || values.events);
        const firstSeq = seq[s]!;
        seq[s] = firstSeq + outgoing.length;
        handed += outgoing.length;
        const pubs = publications(gw, outgoing, from + 60_000, TOPIC_ROOT, firstSeq);
        for (let i = 0; i < outgoing.length; i++) {
          const m = outgoing[i]!;
          if (m.kind === 'metrics' && hold) continue;
          if (m.kind === 'metrics') {
            if ((m.body as { revision: number }).revision > 1) counts.revisions += 1;
            else counts.bins1m += 1;
          } else if (m.kind === 'kpi') counts.bins1h += 1;
          else counts.events += 1;
          await out.publish(pubs[i]!.topic, pubs[i]!.payload);
        }
        if (!hold) {
          check.sent(gw.storeId, from, bin.revision, bin.trafficIn);
          revisionSum += bin.revision;
        }
        if (hour) {
          check.sentHour(gw.storeId, hour.from);
          revisionSum += 1;
        }
      }
    }
    await publishStatus('offline', FLEET_DAY + MINUTES * 60_000);
    fleet.forEach((gw, s) => check.sentGateway(gw.storeId, seq[s]! - 1, 'offline', 'shutdown'));
    await out.settle();
    publishS = (Date.now() - t0) / 1000;
    const lastSeqTotal = seq.reduce((sum, next) => sum + next - 1, 0);
    // Every gateway's last message committed; given up after 30 s without progress (a loss: the
    // check says where).
    while (monitor.committed < lastSeqTotal && Date.now() - monitor.lastProgressAt < 30_000) await new Promise((r) => setTimeout(r, 100));
  } finally {
    await monitor.stop();
    await client.endAsync();
  }
  return {
    counts,
    kpiBinsSent: counts.bins1m + counts.bins1h,
    revisionSum,
    withheldBins: withheld.size,
    publishS,
    peakBacklog: monitor.peakBacklog,
    peakBrokerStore,
    peakRssMb: monitor.peakRssMb,
    rssByQuarter,
  };
}

/**
 * With several workers a gateway's last message may commit before an earlier one another worker
 * holds: waits until kpi_bins holds as many rows as sent at their highest revisions, and the events,
 * or 30 s without change (a loss: the check says where).
 */
async function waitForFinalRows(databaseUrl: string, bins: number, revisionSum: number, events: number): Promise<void> {
  let last = '';
  let changedAt = Date.now();
  for (;;) {
    const [row] = await query<{ bins: string; revisions: string | null; events: string }>(
      databaseUrl,
      'SELECT (SELECT count(*) FROM kpi_bins) AS bins, (SELECT sum(revision) FROM kpi_bins) AS revisions, (SELECT count(*) FROM events) AS events',
    );
    if (Number(row!.bins) === bins && Number(row!.revisions ?? 0) === revisionSum && Number(row!.events) === events) return;
    const now = JSON.stringify(row);
    if (now !== last) [last, changedAt] = [now, Date.now()];
    if (Date.now() - changedAt > 30_000) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Reads the stored day back into the check, kpi_bins a page at a time, and returns its verdict. */
async function readBack(databaseUrl: string, check: FleetDayCheck, kpiBinsSent: number, eventsSent: number): Promise<FleetDayVerdict> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const PAGE = 50_000;
    type BinRow = { store_id: string; gateway_id: string; bin_size: string; bin_from: Date; bin_to: Date; revision: number; traffic_in: number };
    let after: BinRow | undefined;
    let kpiBinRows = 0;
    for (;;) {
      // Keyset pages in primary-key order.
      const { rows } = await client.query<BinRow>(
        `SELECT store_id, gateway_id, bin_size, bin_from, bin_to, revision, traffic_in FROM kpi_bins
         ${after ? 'WHERE (store_id, gateway_id, bin_size, bin_from) > ($2, $3, $4, $5)' : ''}
         ORDER BY store_id, gateway_id, bin_size, bin_from LIMIT $1`,
        after ? [PAGE, after.store_id, after.gateway_id, after.bin_size, after.bin_from] : [PAGE],
      );
      for (const r of rows) check.stored({ storeId: r.store_id, binSize: r.bin_size, from: r.bin_from.getTime(), to: r.bin_to.getTime(), revision: r.revision, trafficIn: r.traffic_in });
      kpiBinRows += rows.length;
      if (rows.length < PAGE) break;
      after = rows.at(-1);
    }
    for (const r of (await client.query<{ store_id: string; hour: Date; bins: number; traffic_in: string }>('SELECT store_id, hour, bins, traffic_in FROM store_hours')).rows) {
      check.storeHour({ storeId: r.store_id, hour: r.hour.getTime(), bins: r.bins, trafficIn: Number(r.traffic_in) });
    }
    for (const r of (await client.query<{ store_id: string; day: Date; traffic: string }>('SELECT store_id, day, traffic FROM store_days')).rows) {
      check.storeDay({ storeId: r.store_id, day: r.day.getTime(), traffic: r.traffic });
    }
    for (const r of (await client.query<{ store_id: string; last_seq: string | null; state: string | null; state_reason: string | null }>('SELECT store_id, last_seq, state, state_reason FROM gateways')).rows) {
      check.storedGateway({ storeId: r.store_id, lastSeq: r.last_seq === null ? null : Number(r.last_seq), state: r.state, reason: r.state_reason });
    }
    const [counts] = (await client.query<{ events: string; dead_letters: string }>('SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM dead_letters) AS dead_letters')).rows;
    return check.verdict({ kpiBinRows, kpiBinsSent, eventRows: Number(counts!.events), eventsSent, deadLetters: Number(counts!.dead_letters) });
  } finally {
    await client.end();
  }
}

function printFleetDay(r: FleetDayResult): void {
  const v = r.verdict;
  const c = r.cpu_ms_per_1000_messages;
  console.log(`fleet day: ${r.stores} stores × ${r.minutes} min, ${r.workers} worker(s), PostgreSQL fsync ${r.fsync}, ${r.cpus} CPUs`);
  console.log(
    `${r.messages} messages: ${r.bins_1m} 1-minute bins, ${r.revisions} revisions, ${r.bins_1h} 1-hour bins, ${r.events} events, ${r.statuses} statuses` +
      (r.withheld > 0 ? ` (${r.withheld} bins withheld on purpose)` : ''),
  );
  console.log(`wall ${r.wall_s} s (first publication → last commit; publishing took ${r.publish_s} s): ${r.rate_per_s} messages/s`);
  console.log(`peak backlog ${r.peak_backlog} messages (published, not committed); mosquitto's peak message store ${r.peak_broker_store ?? 'not sampled'}`);
  console.log(`worker RSS: peak ${r.worker_rss_mb_peak} MB, end ${r.worker_rss_mb_end} MB (by quarter of the day: ${r.worker_rss_mb_by_quarter.join(', ')} MB); database ${r.database_mb} MB (kpi_bins ${r.kpi_bins_mb} MB)`);
  console.log(`CPU ms per 1000 messages: workers ${c.workers}, PostgreSQL ${c.postgres}, mosquitto ${c.mosquitto}, fleet simulator and publisher (this process) ${c.simulator}; machine ${Math.round(r.machine_busy * 100)} % busy`);
  console.log(`(1-minute load average of this machine: ${r.load_average_1m_start} at start, ${r.load_average_1m_end} at the end)`);
  console.log(
    `check: ${v.binsStored}/${v.binsExpected} 1-minute bins stored, ${v.storesComplete}/${v.stores} stores complete, ${v.missing} missing in ${v.gapCount} gap(s), ${v.duplicates} duplicates, ` +
      `${v.wrongRevision} not at their highest revision, ${v.wrongTraffic} with other traffic, ${v.unexpected} unexpected; ` +
      (r.bins_1h > 0 ? `rollups: ${v.rollupHoursChecked} store-hours (${v.rollupHourMismatches} disagree), ${v.rollupDaysChecked} store-days (${v.rollupDayMismatches} disagree)` : 'rollups: not fed (no 1-hour bins sent)') +
      `; ${v.gatewaysWrong} gateways wrong`,
  );
  for (const p of v.problems) console.log(`  ${p}`);
  console.log(`verdict: ${v.noGap ? 'no gap' : 'GAP'}${v.ok ? '' : v.noGap ? ', but see the problems above' : ''}`);
}

try {
  if (fleetDayMode) {
    const result = await fleetDay();
    if (values.json) console.log(JSON.stringify(result));
    else printFleetDay(result);
    if (!result.verdict.ok) process.exitCode = 1;
  } else await ingestAndAnalytics();
} finally {
  await postgres.destroy();
  await broker.stop();
}

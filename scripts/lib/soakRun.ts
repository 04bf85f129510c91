/**
 * The soak test (issue 15 item 5): the daemon with N looping cameras, MQTT sensors at a steady rate
 * and an upstream mosquitto that is stopped and started on a schedule. For the whole run it samples
 * the daemon's RSS, V8 heap, open descriptors, event-loop lag and SQLite size; at the end it checks
 * that every event the gateway stored reached the upstream subscriber, and judges each sampled
 * quantity for a trend beyond noise over the second half (soakTrend.ts).
 *
 * Pieces with one job each: soakDaemon (the process), soakSensorLoad (the devices),
 * soakUpstreamTally (the analytics consumer), soakProcessProbe (/proc), soakPromText (/metrics),
 * soakTrend (the verdict), soakReport (JSON + PNG). This file only sequences them.
 */
import Database from 'better-sqlite3';
import { rm } from 'node:fs/promises';
import { tempDir } from '../../tests/helpers/gatewayHarness.js';
import { freePort, Mosquitto } from '../../tests/helpers/mosquitto.js';
import { SoakDaemon } from './soakDaemon.js';
import { openDescriptors, residentBytes, sqliteBytes } from './soakProcessProbe.js';
import { promValue } from './soakPromText.js';
import { SensorLoad, type SensorLoadCounts } from './soakSensorLoad.js';
import { judgeTrend, type TrendVerdict } from './soakTrend.js';
import { UpstreamTally, type TallySummary } from './soakUpstreamTally.js';

/** The quantities judged for a trend, in the units they are reported in. */
export const JUDGED_METRICS = ['rss_mb', 'heap_used_mb', 'open_fds', 'event_loop_lag_p99_ms'] as const;
export type JudgedMetric = (typeof JUDGED_METRICS)[number];

/**
 * Largest slope per hour that is not a leak, for a 60-minute run. RSS is the target
 * (< 1 MB/hour); the heap gets the same; one descriptor an hour; event-loop lag is dominated by
 * what else runs on the machine, so only a steady climb of 10 ms/hour counts.
 */
export const DEFAULT_TOLERANCES_PER_HOUR: Record<JudgedMetric, number> = { rss_mb: 1, heap_used_mb: 1, open_fds: 1, event_loop_lag_p99_ms: 10 };

export interface SoakSample {
  /** Seconds since sampling started. */
  t: number;
  rss_mb: number;
  heap_used_mb: number;
  open_fds: number;
  event_loop_lag_p99_ms: number;
  /** Not judged: the database grows by design while events are retained (90 days by default). */
  sqlite_mb: number;
  outbox_backlog: number;
  upstream_connected: number;
}

export interface SoakOptions {
  minutes: number;
  cameras: number;
  /** Sensor messages per second, all devices together. */
  sensorRate: number;
  sampleEveryS: number;
  /** The upstream broker is stopped every this many seconds… */
  restartEveryS: number;
  /** …for this long. */
  outageS: number;
  tolerancesPerHour: Record<JudgedMetric, number>;
  /**
   * Whether a quantity too autocorrelated to bound (fewer than three effective samples) fails the
   * run. It should for the real soak: a run that cannot judge RSS has not shown there is no leak.
   */
  inconclusiveFails: boolean;
  /** Progress lines (the CLI prints them; the test keeps them quiet). */
  log: (line: string) => void;
  now?: () => number;
}

export interface LossCheck {
  /** Events in the gateway's database up to the end of the run (highest id when checked). */
  storedEvents: number;
  receivedEvents: number;
  /** Stored events the upstream subscriber never received. */
  lost: number;
  /** A few of the lost ids, for the report. */
  lostIdsSample: number[];
  outboxLeft: number;
  upstream: TallySummary;
}

export interface SoakReport {
  options: Omit<SoakOptions, 'log' | 'now'>;
  startedAt: string;
  sampledSeconds: number;
  samples: SoakSample[];
  outages: { from: number; to: number }[];
  sensors: SensorLoadCounts & { gatewayCounted: number };
  loss: LossCheck;
  trends: Record<JudgedMetric, TrendVerdict> & { sqlite_mb: TrendVerdict };
  daemonExitCode: number | null;
  /** Why the run failed; empty when it passed. */
  failures: string[];
}

const MB = 2 ** 20;
const IDENTITY = { storeId: 'soak-store', gatewayId: 'soak-gw' };
const SENSOR_USER = { username: 'soak', password: 'soak-sensor-password' };
const round = (v: number, digits = 3): number => (Number.isFinite(v) ? Number(v.toFixed(digits)) : NaN);

async function sampleDaemon(daemon: SoakDaemon, t: number): Promise<SoakSample> {
  const text = (await daemon.metrics()) ?? '';
  const metric = (name: string): number => promValue(text, name) ?? NaN;
  return {
    t: round(t, 1),
    rss_mb: round(residentBytes(daemon.pid) / MB),
    heap_used_mb: round(metric('storepulse_nodejs_heap_size_used_bytes') / MB),
    open_fds: openDescriptors(daemon.pid),
    // p99 of the loop delay since the previous scrape (prom-client resets its histogram on each).
    event_loop_lag_p99_ms: round(metric('storepulse_nodejs_eventloop_lag_p99_seconds') * 1000),
    sqlite_mb: round(sqliteBytes(daemon.databaseFile) / MB),
    outbox_backlog: metric('storepulse_outbox_backlog'),
    upstream_connected: metric('storepulse_upstream_connected'),
  };
}

/** Stored event ids up to `maxId` that the tally has not seen, read from the daemon's live database. */
function missingEvents(databaseFile: string, tally: UpstreamTally, maxId: number): { stored: number; missing: number[] } {
  const db = new Database(databaseFile, { readonly: true, fileMustExist: true });
  try {
    const ids = db.prepare('SELECT id FROM events WHERE id <= ?').pluck().all(maxId) as number[];
    return { stored: ids.length, missing: ids.filter((id) => !tally.eventIds.has(id)) };
  } finally {
    db.close();
  }
}

function readScalar(databaseFile: string, sql: string): number {
  const db = new Database(databaseFile, { readonly: true, fileMustExist: true });
  try {
    return Number(db.prepare(sql).pluck().get() ?? 0);
  } finally {
    db.close();
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const now = options.now ?? Date.now;
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
  const dir = await tempDir('soak');
  const broker = await Mosquitto.start();
  const tally = await UpstreamTally.connect(broker.url, `storepulse/v1/${IDENTITY.storeId}/${IDENTITY.gatewayId}/#`, `soak-analytics-${process.pid}`);
  const sensorBrokerPort = await freePort();
  let daemon: SoakDaemon | undefined;
  try {
    daemon = await SoakDaemon.start({
      dir,
      cameras: options.cameras,
      httpPort: await freePort(),
      sensorBrokerPort,
      sensorUser: SENSOR_USER,
      sensorTopicRoot: 'soak',
      upstreamUrl: broker.url,
      identity: IDENTITY,
    });
    options.log(`daemon ready (pid ${daemon.pid}, ${options.cameras} cameras); sampling for ${options.minutes} min`);
    const load = await SensorLoad.start({ url: `mqtt://127.0.0.1:${sensorBrokerPort}`, ...SENSOR_USER, rate: options.sensorRate, topicRoot: 'soak', now });

    const startedAt = now();
    const endAt = startedAt + options.minutes * 60_000;
    const elapsedS = (): number => (now() - startedAt) / 1000;
    const outages: { from: number; to: number }[] = [];

    // The broker schedule runs beside the sampler; it never leaves the broker down past the end.
    const cycleBroker = async (): Promise<void> => {
      for (let next = startedAt + options.restartEveryS * 1000; next + options.outageS * 1000 < endAt; next += options.restartEveryS * 1000) {
        await sleep(next - now());
        const from = elapsedS();
        await broker.stop();
        await sleep(options.outageS * 1000);
        await broker.restart();
        outages.push({ from: round(from, 1), to: round(elapsedS(), 1) });
        options.log(`upstream broker restarted (${outages.length}) at ${(from / 60).toFixed(1)} min`);
      }
    };
    const cycling = cycleBroker();

    const samples: SoakSample[] = [];
    let lastProgress = 0;
    for (let next = startedAt; next <= endAt; next += options.sampleEveryS * 1000) {
      await sleep(next - now());
      if (!daemon.running) break;
      const sample = await sampleDaemon(daemon, elapsedS());
      samples.push(sample);
      if (sample.t - lastProgress >= 60) {
        lastProgress = sample.t;
        options.log(`${(sample.t / 60).toFixed(1)} min: RSS ${sample.rss_mb} MB, heap ${sample.heap_used_mb} MB, fds ${sample.open_fds}, lag p99 ${sample.event_loop_lag_p99_ms} ms, SQLite ${sample.sqlite_mb} MB, backlog ${sample.outbox_backlog}`);
      }
    }
    const sampledSeconds = elapsedS();
    await cycling;
    const sensorCounts = await load.stop();

    // Loss check: every event stored so far must reach the subscriber. Cameras keep producing
    // events, so the check is bounded by the highest id now rather than waiting for an empty outbox.
    const failures: string[] = [];
    let loss: LossCheck = { storedEvents: 0, receivedEvents: 0, lost: NaN, lostIdsSample: [], outboxLeft: NaN, upstream: tally.summary() };
    if (daemon.running) {
      const maxId = readScalar(daemon.databaseFile, 'SELECT coalesce(max(id), 0) FROM events');
      let check = missingEvents(daemon.databaseFile, tally, maxId);
      // Draining the outbox after the last outage takes a while at 200 readings/s: wait for it, with
      // a limit that only catches a hang (the backlog is reported, not timed).
      const drainDeadline = now() + 300_000;
      while (check.missing.length > 0 && now() < drainDeadline) {
        await sleep(1000);
        check = missingEvents(daemon.databaseFile, tally, maxId);
      }
      loss = {
        storedEvents: check.stored,
        receivedEvents: tally.eventIds.size,
        lost: check.missing.length,
        lostIdsSample: check.missing.slice(0, 10),
        outboxLeft: readScalar(daemon.databaseFile, 'SELECT count(*) FROM outbox'),
        upstream: tally.summary(),
      };
    } else {
      failures.push(`the daemon died during the run:\n${daemon.log}`);
    }
    const finalMetrics = (await daemon.metrics()) ?? '';
    const gatewayCounted = promValue(finalMetrics, 'storepulse_sensor_messages_total') ?? NaN;
    const daemonExitCode = await daemon.stop();

    const trends = Object.fromEntries(
      [...JUDGED_METRICS.map((m) => [m, options.tolerancesPerHour[m]] as const), ['sqlite_mb', Infinity] as const].map(([m, tolerance]) => [
        m,
        judgeTrend(
          samples.map((s) => ({ t: s.t, value: s[m] })),
          { tolerancePerHour: tolerance },
        ),
      ]),
    ) as SoakReport['trends'];

    if (loss.lost !== 0) failures.push(`${loss.lost} stored events never reached the upstream broker (e.g. ids ${loss.lostIdsSample.join(', ')})`);
    if (loss.upstream.sequenceGaps !== 0) failures.push(`${loss.upstream.sequenceGaps} gaps in the upstream sequence numbers`);
    if (sensorCounts.failed > 0) failures.push(`${sensorCounts.failed} sensor readings were not acknowledged by the gateway`);
    if (sensorCounts.acked > gatewayCounted) failures.push(`the gateway counted ${gatewayCounted} sensor messages but acknowledged ${sensorCounts.acked}`);
    for (const m of JUDGED_METRICS) {
      const v = trends[m];
      if (!v.enoughData && options.inconclusiveFails) failures.push(`${m} cannot be judged: ${round(v.effectiveN, 1)} effective samples in the second half (run longer)`);
      if (v.leak) failures.push(`${m} grows: ${round(v.slopePerHour)}/h (95 % lower bound ${round(v.lowerPerHour)}/h) over the second half, tolerance ${v.tolerancePerHour}/h`);
    }
    if (daemonExitCode !== 0) failures.push(`the daemon exited with ${daemonExitCode} on SIGTERM:\n${daemon.log}`);

    const { log: _log, now: _now, ...reported } = options;
    return {
      options: reported,
      startedAt: new Date(startedAt).toISOString(),
      sampledSeconds: round(sampledSeconds, 1),
      samples,
      outages,
      sensors: { ...sensorCounts, gatewayCounted },
      loss,
      trends,
      daemonExitCode,
      failures,
    };
  } finally {
    await daemon?.stop();
    await tally.close();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The fleet's messages land exactly once through crashes: three gateway processes (real outbox and
 * uplink) publish while two `storepulse central` worker processes share the subscription; workers
 * are killed with SIGKILL ten times mid-stream (and restarted under the same client id, as systemd does) while
 * the other keeps going, and the broker is restarted. Afterwards every message the gateways sent is
 * in PostgreSQL once — none lost, none twice — with each KPI bin at its highest revision, and each
 * change annotation present, or cleared by its tombstone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { publications, simulatedFleet, simulateGateway } from '../../src/central/fleetSimulation.js';
import { MIGRATIONS } from '../../src/central/migrations.js';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { terminate } from '../helpers/childProcess.js';
import { tempDir, until } from '../helpers/gatewayHarness.js';
import { freePort, hasMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { useMosquitto } from '../helpers/mosquittoSuite.js';
import { postgresUnavailable, usePostgres } from '../helpers/postgres.js';
import { withAnnotations } from './annotationStream.js';
import { rawWorkerConfig, sql, tableCounts } from './centralHarness.js';

const GATEWAYS = 3;
const MINUTES = 300;
const START = Date.UTC(2026, 10, 30, 20, 0); // crosses midnight UTC into December: partitions of two months
const SEEDS = [11, 12, 13];

interface Worker {
  child: ChildProcess;
  output: string;
  /** 'central: subscribed' lines so far (counted as they arrive: `output` keeps only its tail). */
  subscriptions: number;
}

function spawnWorker(configFile: string): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'central', '--config', configFile], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const worker: Worker = { child, output: '', subscriptions: 0 };
  let pendingLine = '';
  child.stdout!.on('data', (d: Buffer) => {
    worker.output = (worker.output + d.toString()).slice(-20_000);
    const lines = (pendingLine + d.toString()).split('\n');
    pendingLine = lines.pop()!;
    worker.subscriptions += lines.filter((l) => l.includes('central: subscribed')).length;
  });
  child.stderr!.on('data', (d: Buffer) => (worker.output = (worker.output + d.toString()).slice(-20_000)));
  return until(() => worker.output, (o) => o.includes('central: ingesting') || child.exitCode !== null, 60_000, 'the worker subscribed').then(() => {
    if (child.exitCode !== null) throw new Error(`central exited at start: ${worker.output}`);
    return worker;
  });
}

function spawnPublisher(brokerUrl: string, dataDir: string, index: number): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(PROJECT_ROOT, 'tests/central/gatewayPublisher.ts'), brokerUrl, dataDir, String(index), String(SEEDS[index - 1]), String(MINUTES), String(START)],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PUBLISH_CHUNK: '3', PUBLISH_PAUSE_MS: '50' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-5000)));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

function killNow(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) return resolve();
    worker.child.once('exit', () => resolve());
    worker.child.kill('SIGKILL');
  });
}

/**
 * Restarts the broker with the gateways held (SIGSTOP) until the running worker has subscribed
 * again. Why: mosquitto 2.0 (2.0.11 measured) restores persistent sessions but not their shared
 * subscriptions, so a message published after the restart and before any worker re-subscribed
 * matches no subscription and the broker drops it. That window is the broker's; this test checks
 * everything on either side of it (sessions' queued and unacknowledged messages survive the restart,
 * workers and gateways reconnect and re-deliver). README "Central" documents the limitation.
 */
async function restartBroker(broker: Mosquitto, running: Worker, publishers: { child: ChildProcess }[]): Promise<void> {
  for (const p of publishers) p.child.kill('SIGSTOP');
  try {
    const before = running.subscriptions;
    await broker.restart();
    await until(() => running.subscriptions, (n) => n > before, 30_000, 'the running worker subscribed again');
  } finally {
    for (const p of publishers) p.child.kill('SIGCONT');
  }
}

describe.skipIf(postgresUnavailable() !== undefined || !hasMosquitto())('central: exactly once through worker SIGKILLs and a broker restart', () => {
  const broker = useMosquitto();
  const postgres = usePostgres();

  it('every message of every gateway lands once; KPI bins end at their highest revision', async () => {
    const databaseUrl = await postgres().createDatabase('exactly_once');
    const dir = await tempDir('central-exactly-once');
    const configFiles = ['a', 'b'].map((name) => {
      const file = path.join(dir, `central-${name}.yaml`);
      const raw = rawWorkerConfig({ brokerUrl: broker().url, databaseUrl, clientId: `central-${name}`, group: 'fleet', batch: { max_messages: 100, max_wait_ms: 10 } });
      writeFileSync(file, stringify({ ...raw, log_level: 'info' }));
      return file;
    });
    const expected = simulatedFleet(GATEWAYS).map((gw, i) => ({ gw, traffic: simulateGateway(gw, { start: START, minutes: MINUTES, seed: SEEDS[i]!, reviseEvery: 5 }) }));
    const totalEvents = expected.reduce((s, e) => s + e.traffic.events, 0);
    const totalBins = expected.reduce((s, e) => s + e.traffic.kpiBins, 0);

    // Both workers start at once: they also race to migrate the empty database.
    const workers = await Promise.all(configFiles.map((f) => spawnWorker(f)));
    const publishers = Array.from({ length: GATEWAYS }, (_, i) => spawnPublisher(broker().url, dir, i + 1));
    const stored = async (): Promise<number> => {
      const c = await tableCounts(databaseUrl);
      return c.events + c.kpi_bins;
    };
    try {
      // Ten SIGKILLs (alternating between the workers) and a broker restart among them.
      const kills = 10;
      let keptGoingWhileDown = 0;
      for (let k = 0; k < kills; k++) {
        // Kills spread over the stream: at 1/12, 2/12 … 10/12 of the rows.
        const mark = Math.round(((totalEvents + totalBins) * (k + 1)) / (kills + 2));
        await until(stored, (n) => n >= mark, 60_000, `${mark} rows stored before kill ${k + 1}`);
        const victim = k % 2;
        await killNow(workers[victim]!);
        const atKill = await stored();
        const streaming = publishers.some((p) => p.child.exitCode === null);
        if (k === 4) await restartBroker(broker(), workers[1 - victim]!, publishers);
        if (streaming) {
          // The other worker keeps writing while this one is dead (its own share of the messages).
          await until(stored, (n) => n > atKill, 30_000, `the other worker writing while worker ${victim} is dead`);
          keptGoingWhileDown += 1;
        }
        await new Promise((r) => setTimeout(r, 500));
        workers[victim] = await spawnWorker(configFiles[victim]!);
      }
      expect(keptGoingWhileDown, 'kills that happened mid-stream').toBeGreaterThanOrEqual(2);

      const results = await Promise.all(publishers.map((p) => p.done));
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      await until(() => tableCounts(databaseUrl), (c) => c.events >= totalEvents && c.kpi_bins >= totalBins, 90_000, 'every message stored');
      for (const w of workers) expect(w.child.exitCode, w.output.slice(-2000)).toBeNull();
    } finally {
      for (const p of publishers) await terminate(p.child);
      await Promise.all(workers.map((w) => terminate(w.child)));
    }
    // A clean stop after the crashes: SIGTERM, exit 0.
    for (const w of workers) expect(w.child.exitCode).toBe(0);

    for (const { gw, traffic } of expected) {
      const keys = await sql<{ key: string; n: string }>(databaseUrl, 'SELECT key, count(*) AS n FROM events WHERE gateway_id = $1 GROUP BY key', [gw.gatewayId]);
      const expectedKeys = new Set(traffic.messages.filter((m) => m.kind === 'event').map((m) => m.key));
      const storedKeys = new Set(keys.map((k) => k.key));
      expect([...expectedKeys].filter((k) => !storedKeys.has(k)), `lost events of ${gw.gatewayId}`).toEqual([]);
      expect([...storedKeys].filter((k) => !expectedKeys.has(k)), `unknown events of ${gw.gatewayId}`).toEqual([]);
      expect(keys.filter((k) => Number(k.n) !== 1), `duplicated events of ${gw.gatewayId}`).toEqual([]);

      const bins = await sql<{ bin_from: Date; revision: number; traffic_in: number; sales: number }>(databaseUrl, 'SELECT bin_from, revision, traffic_in, sales FROM kpi_bins WHERE gateway_id = $1', [gw.gatewayId]);
      expect(bins).toHaveLength(traffic.finalBins.size);
      const wrong = bins.filter((b) => {
        const want = traffic.finalBins.get(b.bin_from.getTime());
        return !want || want.revision !== b.revision || want.trafficIn !== b.traffic_in || want.sales !== b.sales;
      });
      expect(wrong, `bins of ${gw.gatewayId} not at their final revision`).toEqual([]);

      // Footfall per store as the gateway counted it, and as central has it.
      const [footfall] = await sql<{ people: string }>(databaseUrl, "SELECT sum((data->>'in')::int) AS people FROM events WHERE store_id = $1 AND type = 'door_count'", [gw.storeId]);
      const [binned] = await sql<{ people: string }>(databaseUrl, 'SELECT sum(traffic_in) AS people FROM kpi_bins WHERE store_id = $1', [gw.storeId]);
      expect(Number(footfall!.people)).toBe(Number(binned!.people));
      expect(Number(binned!.people)).toBe([...traffic.finalBins.values()].reduce((s, b) => s + b.trafficIn, 0));
    }
    for (const { gw, traffic } of expected) {
      const { live, removed } = withAnnotations(gw, traffic.messages, START);
      const notes = await sql<{ annotation_id: string; deleted: boolean; text: string | null }>(
        databaseUrl,
        'SELECT annotation_id, deleted_at IS NOT NULL AS deleted, text FROM annotations WHERE gateway_id = $1 ORDER BY annotation_id',
        [gw.gatewayId],
      );
      expect(live.length).toBeGreaterThan(10);
      expect(removed.length).toBeGreaterThan(5);
      expect(notes.filter((n) => !n.deleted).map((n) => Number(n.annotation_id)), `annotations of ${gw.gatewayId}`).toEqual(live);
      expect(notes.filter((n) => n.deleted).map((n) => Number(n.annotation_id)), `tombstones of ${gw.gatewayId}`).toEqual(removed);
      expect(notes.filter((n) => n.deleted && n.text !== null)).toEqual([]);
    }
    expect(await tableCounts(databaseUrl)).toEqual({ events: totalEvents, kpi_bins: totalBins, dead_letters: 0, gateways: GATEWAYS });
    const migrations = await sql<{ version: number }>(databaseUrl, 'SELECT version FROM schema_migrations ORDER BY version');
    expect(migrations).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
  }, 600_000);

  it('a worker killed while its messages wait for the database acknowledged none of them: they land after its restart', async () => {
    const databaseUrl = await postgres().createDatabase('killed_uncommitted');
    const dir = await tempDir('central-killed');
    const configFile = path.join(dir, 'central.yaml');
    const apiPort = await freePort();
    const token = 'lonely-worker-api-token-0123';
    writeFileSync(
      configFile,
      stringify({
        ...rawWorkerConfig({ brokerUrl: broker().url, databaseUrl, clientId: 'central-lonely', group: 'lonely' }),
        http: { port: apiPort, tokens: [{ name: 'test', token }] },
        log_level: 'info',
      }),
    );
    const [gw] = simulatedFleet(1);
    const traffic = simulateGateway(gw!, { start: START, minutes: 30, seed: 21 });
    let worker = await spawnWorker(configFile);
    const publisher = await mqtt.connectAsync(broker().url, { clientId: 'lonely-gateway', protocolVersion: 5 });
    try {
      await postgres().stop();
      try {
        await Promise.all(publications(gw!, traffic.messages, START).map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
        // The worker has them and cannot commit: it logs the failed writes.
        await until(() => worker.output, (o) => o.includes('cannot write to PostgreSQL'), 30_000, 'a failed write');
        await killNow(worker);
      } finally {
        await postgres().launch();
      }
      worker = await spawnWorker(configFile);
      await until(() => tableCounts(databaseUrl), (c) => c.events === traffic.events && c.kpi_bins === traffic.kpiBins, 60_000, 'the re-delivered messages stored');
      // The restarted process serves the fleet API from the same database.
      const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/fleet/gateways`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      // (Other stores may be listed too: mosquitto 2.0.11 sends the retained status messages of the
      // earlier test's gateways to a new shared subscription.)
      const gateways = (await res.json()) as { store_id: string; last_seq: number | null }[];
      expect(gateways.find((g) => g.store_id === gw!.storeId)?.last_seq).toBe(traffic.messages.length);
    } finally {
      await publisher.endAsync();
      await terminate(worker.child);
    }
    expect(worker.child.exitCode).toBe(0);
  }, 120_000);
});

/** Shared set-up of the central tests: a worker's config, in-process workers, and SQL reads. */
import pg from 'pg';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import { parseCentralConfig, type CentralConfig } from '../../src/central/centralConfig.js';
import { createCentralMetrics, type CentralMetrics } from '../../src/central/centralMetrics.js';
import { IngestWorker } from '../../src/central/ingestWorker.js';

export interface WorkerConfigOptions {
  brokerUrl: string;
  databaseUrl: string;
  clientId: string;
  group?: string;
  batch?: { max_messages?: number; max_wait_ms?: number };
  receiveMaximum?: number;
  /**
   * The `retention` section. Off unless given: the tests publish bins of fixed 2026 dates while the
   * workers' clock is the real one, so retention would remove them once the calendar moves on.
   */
  retention?: Record<string, unknown>;
}

/** A raw config as a user writes it (YAML-shaped), for files and for parseCentralConfig. */
export function rawWorkerConfig(o: WorkerConfigOptions): Record<string, unknown> {
  return {
    mqtt: { url: o.brokerUrl, client_id: o.clientId, group: o.group ?? 'test-central', reconnect_s: 0.3, ...(o.receiveMaximum ? { receive_maximum: o.receiveMaximum } : {}) },
    postgres: { url: o.databaseUrl },
    batch: { max_messages: 200, max_wait_ms: 10, ...o.batch },
    retention: o.retention ?? { enabled: false },
    log_level: 'warn',
  };
}

export function workerConfig(o: WorkerConfigOptions): CentralConfig {
  const parsed = parseCentralConfig(rawWorkerConfig(o), {});
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.config;
}

export interface RunningWorker {
  worker: IngestWorker;
  metrics: CentralMetrics;
  pool: pg.Pool;
  stop: () => Promise<void>;
}

const running: RunningWorker[] = [];

afterEach(async () => {
  for (const w of running.splice(0)) await w.stop();
});

/** An ingest worker in the test process (stopped after each test). */
export async function startWorker(config: CentralConfig): Promise<RunningWorker> {
  const pool = new pg.Pool({ connectionString: config.postgres.url, max: 1 });
  const metrics = createCentralMetrics();
  const worker = new IngestWorker(config, pool, { log: pino({ level: 'silent' }), metrics, now: Date.now });
  let stopped = false;
  const handle: RunningWorker = {
    worker,
    metrics,
    pool,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      running.splice(running.indexOf(handle), 1);
      await worker.stop();
      await pool.end();
    },
  };
  running.push(handle);
  await worker.start();
  return handle;
}

/** One query on a fresh connection (the tests read what the workers wrote). */
export async function sql<R extends pg.QueryResultRow>(databaseUrl: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Row counts of the tables central writes. */
export async function tableCounts(databaseUrl: string): Promise<{ events: number; kpi_bins: number; dead_letters: number; gateways: number }> {
  const [row] = await sql<{ events: string; kpi_bins: string; dead_letters: string; gateways: string }>(
    databaseUrl,
    `SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM kpi_bins) AS kpi_bins,
            (SELECT count(*) FROM dead_letters) AS dead_letters, (SELECT count(*) FROM gateways) AS gateways`,
  );
  return { events: Number(row!.events), kpi_bins: Number(row!.kpi_bins), dead_letters: Number(row!.dead_letters), gateways: Number(row!.gateways) };
}

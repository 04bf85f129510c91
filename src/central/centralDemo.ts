/**
 * `storepulse central --demo`: the whole head-office side on one machine, for trying it out. A
 * private PostgreSQL and mosquitto (temporary directories, free local ports, removed on exit), a
 * simulated fleet publishing as gateways do (demoFleet.ts), one ingest worker, and the fleet API
 * with its dashboard on 127.0.0.1, under a fresh random API token printed with the URL.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { CliError } from '../cli/errors.js';
import { parseCentralConfig, type CentralConfig } from './centralConfig.js';
import { createCentralMetrics } from './centralMetrics.js';
import { DemoFleet } from './demoFleet.js';
import { buildFleetApi } from './fleetApi.js';
import { IngestWorker } from './ingestWorker.js';
import { LocalMosquitto, mosquittoUnavailable } from './localMosquitto.js';
import { LocalPostgres, postgresUnavailable } from './localPostgres.js';

export interface DemoOptions {
  gateways: number;
  days: number;
  port: number;
}

/** The --demo options as numbers in range, or the reason they are not. Pure. */
export function parseDemoOptions(values: { gateways: string; days: string; port: string }): DemoOptions | string {
  const int = (name: string, text: string, min: number, max: number): number | string => {
    const n = Number(text);
    return /^\d+$/.test(text) && n >= min && n <= max ? n : `--${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`;
  };
  const gateways = int('gateways', values.gateways, 1, 500);
  const days = int('days', values.days, 0, 90);
  const port = int('port', values.port, 0, 65_535);
  for (const v of [gateways, days, port]) if (typeof v === 'string') return v;
  return { gateways: gateways as number, days: days as number, port: port as number };
}

/** Runs until `stopped` resolves (a signal); cleans everything up in any case. */
export async function runCentralDemo(options: DemoOptions, log: Logger, stopped: Promise<string>): Promise<void> {
  const missing = postgresUnavailable() ?? mosquittoUnavailable();
  if (missing) throw new CliError(`central --demo: ${missing}`);
  const cleanup: (() => Promise<unknown>)[] = [];
  const runCleanup = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await step().catch((err: Error) => log.warn({ err: err.message }, 'central demo: cleanup step failed'));
  };
  try {
    log.info('central demo: starting a private PostgreSQL and mosquitto');
    const postgres = await LocalPostgres.start();
    cleanup.push(() => postgres.destroy());
    const broker = await LocalMosquitto.start();
    cleanup.push(() => broker.destroy());
    const databaseUrl = await postgres.createDatabase('storepulse_central');

    const token = randomBytes(24).toString('base64url');
    const parsed = parseCentralConfig(
      {
        mqtt: { url: broker.url, client_id: 'central-demo', group: 'storepulse-central' },
        postgres: { url: databaseUrl },
        http: { host: '127.0.0.1', port: options.port, tokens: [{ name: 'demo', token }] },
        log_level: 'info',
      },
      {},
    );
    if (!parsed.ok) throw new Error(`the demo's own config is invalid: ${parsed.errors.join('; ')}`);
    const config: CentralConfig = parsed.config;

    const pool = new pg.Pool({ connectionString: databaseUrl, max: 3, application_name: 'storepulse-central demo' });
    cleanup.push(() => pool.end());
    const metrics = createCentralMetrics({ processMetrics: true });
    const worker = new IngestWorker(config, pool, { log, metrics, now: Date.now });
    cleanup.push(() => worker.stop());
    await worker.start();

    const fleet = new DemoFleet({ brokerUrl: broker.url, gateways: options.gateways, historyDays: options.days, topicRoot: config.mqtt.topic_root, log });
    cleanup.push(() => fleet.stop());
    log.info({ gateways: options.gateways, days: options.days }, 'central demo: simulating the fleet and publishing its history');
    await fleet.start();

    const api = buildFleetApi({ db: pool, tokens: config.http!.tokens, metrics: metrics.registry });
    cleanup.push(() => api.close());
    try {
      await api.listen({ host: '127.0.0.1', port: options.port });
    } catch (err) {
      throw new CliError(`central --demo: cannot listen on 127.0.0.1:${options.port}: ${(err as Error).message} (choose another with --port, or --port 0)`);
    }
    const address = api.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const url = `http://127.0.0.1:${port}/fleet/#token=${token}`;
    log.info({ url, api_token: token, database: databaseUrl, broker: broker.url }, 'central demo: dashboard ready');
    // The one line a person looks for, outside the JSON log.
    process.stdout.write(`\nstorepulse central demo: open ${url}\n(API: curl -H "Authorization: Bearer ${token}" http://127.0.0.1:${port}/api/v1/fleet/gateways ; Ctrl-C stops and removes everything)\n\n`);

    const signal = await stopped;
    log.info({ signal, ...worker.stats(), published: fleet.published }, 'central demo: stopping');
  } finally {
    await runCleanup();
  }
}

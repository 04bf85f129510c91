/**
 * `storepulse central --config FILE` (options: cli/commandSpecs.ts): one ingest worker, and the fleet
 * REST API and dashboard when the config has an `http` section. `--demo`: centralDemo.ts. Exits with a
 * one-line error for a bad config or an unreachable database at start; once running, broker and
 * database outages are waited out. SIGTERM or SIGINT commits and acknowledges what was received,
 * then exits.
 */
import pg from 'pg';
import { pino } from 'pino';
import { CENTRAL } from '../cli/commandSpecs.js';
import { CliError } from '../cli/errors.js';
import { parseCommandArgs, UsageError } from '../cli/options.js';
import { loadCentralConfig } from './centralConfig.js';
import { parseDemoOptions, runCentralDemo } from './centralDemo.js';
import { createCentralMetrics } from './centralMetrics.js';
import { buildFleetApi } from './fleetApi.js';
import { IngestWorker } from './ingestWorker.js';

export async function centralCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(CENTRAL, argv);
  if (positionals.length > 0) throw new UsageError(CENTRAL.name, `unexpected argument ${positionals[0]}`);
  if (Boolean(values.config) === values.demo) throw new UsageError(CENTRAL.name, 'needs either --config FILE or --demo, not both');
  if (values.demo || !values.config) return demo(values);
  const loaded = await loadCentralConfig(values.config);
  if (!loaded.ok) throw new CliError(`invalid config ${values.config}:\n  ${loaded.errors.join('\n  ')}`, 2);
  const config = loaded.config;
  const log = pino({ base: { service: 'storepulse-central' }, timestamp: pino.stdTimeFunctions.isoTime, level: config.log_level });
  const pool = new pg.Pool({ connectionString: config.postgres.url, max: 1, application_name: `storepulse-central ${config.mqtt.client_id}` });
  const metrics = createCentralMetrics({ processMetrics: true });
  const worker = new IngestWorker(config, pool, { log, metrics, now: Date.now });
  const api = config.http ? buildFleetApi({ db: pool, tokens: config.http.tokens, metrics: metrics.registry }) : undefined;

  let stopRequested: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => (stopRequested = resolve));
  process.once('SIGTERM', () => stopRequested('SIGTERM'));
  process.once('SIGINT', () => stopRequested('SIGINT'));

  try {
    await Promise.race([worker.start(), stopped]);
  } catch (err) {
    await worker.stop();
    await pool.end().catch(() => undefined);
    throw new CliError(`cannot start central: ${(err as Error).message.split('\n')[0]}`);
  }
  if (api && config.http) {
    try {
      await api.listen({ host: config.http.host, port: config.http.port });
      log.info({ address: api.addresses()[0] }, 'central: fleet API listening');
    } catch (err) {
      await worker.stop();
      await pool.end().catch(() => undefined);
      throw new CliError(`cannot listen on ${config.http.host}:${config.http.port}: ${(err as Error).message}`);
    }
  }
  const signal = await stopped;
  log.info({ signal, ...worker.stats() }, 'central: stopping');
  await api?.close();
  await worker.stop();
  await pool.end().catch(() => undefined);
  log.info(worker.stats(), 'central: stopped');
}

async function demo(values: { gateways: string; days: string; port: string }): Promise<void> {
  const options = parseDemoOptions(values);
  if (typeof options === 'string') throw new UsageError(CENTRAL.name, options);
  const log = pino({ base: { service: 'storepulse-central' }, timestamp: pino.stdTimeFunctions.isoTime, level: 'info' });
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  await runCentralDemo(options, log, stopped);
}

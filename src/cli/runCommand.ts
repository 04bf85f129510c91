/**
 * `storepulse run [--config FILE] [--demo] [--port N]` (options: commandSpecs.ts): the live gateway daemon. Without a config it
 * runs the built-in default (API on :8080, no cameras); --demo plays the sample footage as a looping
 * camera. Stops cleanly on SIGTERM/SIGINT; SIGHUP reloads the config.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import type { GatewayContext } from '../gateway/context.js';
import { Gateway } from '../gateway/gateway.js';
import { buildServer } from '../gateway/http/httpServer.js';
import { createMetrics } from '../gateway/metrics.js';
import { PROJECT_ROOT } from '../projectPaths.js';
import { RUN } from './commandSpecs.js';
import { CliError } from './errors.js';
import { parseCommandArgs, usageLine } from './options.js';

export const RUN_USAGE = usageLine(RUN);

export const DEMO_CONFIG = path.join(PROJECT_ROOT, 'config', 'demo.yaml');

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--port must be 0–65535, got "${value}"`, 2);
  return n;
}

/**
 * The demo runs from a copy in ./data, so lines and zones drawn in the web UI are saved there and
 * the repository's config/demo.yaml stays as shipped (delete data/demo.yaml to start over).
 */
function demoConfigCopy(): string {
  const copy = path.resolve('data', 'demo.yaml');
  if (!existsSync(copy)) {
    mkdirSync(path.dirname(copy), { recursive: true });
    copyFileSync(DEMO_CONFIG, copy);
  }
  return copy;
}

export async function runCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(RUN, argv);
  if (positionals.length > 0 || (values.demo && values.config)) throw new CliError(RUN_USAGE, 2);
  const configPath = values.demo ? demoConfigCopy() : values.config;
  const log = pino({ base: { service: 'storepulse' }, timestamp: pino.stdTimeFunctions.isoTime });
  const ctx: GatewayContext = { log, metrics: createMetrics(), now: Date.now };

  const gateway = await Gateway.start({ ctx, configPath, port: parsePort(values.port), watchConfig: true });
  log.level = gateway.config.log.level;
  const server = buildServer(gateway, ctx);
  try {
    await server.listen({ host: gateway.httpHost, port: gateway.httpPort });
  } catch (err) {
    await gateway.stop();
    throw new CliError(`cannot listen on ${gateway.httpHost}:${gateway.httpPort}: ${(err as Error).message}`);
  }
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : gateway.httpPort;
  log.info({ port, mode: gateway.mode, config: configPath ?? '(built-in default)' }, `API on ${gateway.tls ? 'https' : 'http'}://${gateway.httpHost}:${port}`);

  process.on('SIGHUP', () => void gateway.reload());
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string): void => {
      log.info({ signal }, 'stopping');
      void server
        .close()
        .then(() => gateway.stop())
        .finally(resolve);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}

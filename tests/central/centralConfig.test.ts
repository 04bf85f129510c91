/**
 * `storepulse central`'s config and command line: the shipped example is valid, every problem is
 * reported with its path, and the command fails with a clear message and exit code instead of a
 * stack trace (bad config: 2; unreachable database: 1).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadCentralConfig, parseCentralConfig, sharedSubscription } from '../../src/central/centralConfig.js';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { expectOneLineError, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gatewayHarness.js';
import { freePort } from '../helpers/mosquitto.js';

const EXAMPLE = path.join(PROJECT_ROOT, 'config', 'central.example.yaml');
const ENV = { STOREPULSE_CENTRAL_MQTT_PASSWORD: 'mqtt-secret', STOREPULSE_CENTRAL_DB_PASSWORD: 'db-secret', STOREPULSE_CENTRAL_API_TOKEN: 'an-api-token-of-24-chars-or-more' };

describe('central config', () => {
  it('the annotated example is valid, with its secrets from the environment', async () => {
    const result = await loadCentralConfig(EXAMPLE, ENV);
    expect(result.ok, result.ok ? '' : result.errors.join('\n')).toBe(true);
    if (!result.ok) return;
    expect(result.config.mqtt.password).toBe('mqtt-secret');
    expect(result.config.postgres.url).toContain(':db-secret@');
    expect(result.config.http).toEqual({ host: '127.0.0.1', port: 8090, tokens: [{ name: 'head-office', token: 'an-api-token-of-24-chars-or-more' }] });
    expect(sharedSubscription(result.config.mqtt)).toBe('$share/storepulse-central/storepulse/v1/+/+/#');
  });

  it('a missing secret is named, not silently empty', async () => {
    const result = await loadCentralConfig(EXAMPLE, { ...ENV, STOREPULSE_CENTRAL_DB_PASSWORD: undefined });
    expect(result).toEqual({ ok: false, errors: ['postgres.url: environment variable STOREPULSE_CENTRAL_DB_PASSWORD is not set'] });
  });

  it('fills the defaults a minimal config leaves out', () => {
    const result = parseCentralConfig({ mqtt: { url: 'mqtt://broker:1883' }, postgres: { url: 'postgres://central@db/storepulse' } }, {});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.mqtt).toMatchObject({ group: 'storepulse-central', topic_root: 'storepulse', receive_maximum: 2000, session_expiry_s: 604_800 });
    expect(result.config.mqtt.client_id).toMatch(/^storepulse-central-[A-Za-z0-9_.-]+$/);
    expect(result.config.batch).toEqual({ max_messages: 500, max_wait_ms: 20 });
  });

  it('reports every problem with its path', () => {
    const result = parseCentralConfig(
      { mqtt: { url: 'http://broker', group: 'a/b', receive_maximum: 10 }, postgres: { url: 'mysql://x' }, batch: { max_messages: 100 }, extra: true },
      {},
    );
    expect(result.ok).toBe(false);
    const errors = result.ok ? '' : result.errors.join('\n');
    for (const pattern of [/^mqtt\.url: must start with mqtt:\/\//m, /^mqtt\.group: one topic level/m, /^postgres\.url: a connection string/m, /extra/]) expect(errors).toMatch(pattern);
    const small = parseCentralConfig({ mqtt: { url: 'mqtt://b', receive_maximum: 10 }, postgres: { url: 'postgres://d' }, batch: { max_messages: 100 } }, {});
    const open = parseCentralConfig({ mqtt: { url: 'mqtt://b' }, postgres: { url: 'postgres://d' }, http: { tokens: [] } }, {});
    expect(open.ok ? [] : open.errors).toEqual(['http.tokens: at least one token']);
    const short = parseCentralConfig({ mqtt: { url: 'mqtt://b' }, postgres: { url: 'postgres://d' }, http: { tokens: [{ name: 'a', token: 'short' }] } }, {});
    expect(short.ok ? [] : short.errors).toEqual(['http.tokens.0.token: at least 24 characters']);
    expect(small.ok ? [] : small.errors).toEqual(['mqtt.receive_maximum: mqtt.receive_maximum must be at least batch.max_messages (the broker would never send a full batch)']);
  });
});

describe('storepulse central', () => {
  it('without --config or --demo: one line pointing to the help, exit 2', async () => {
    const r = await runCli(['central']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('storepulse central: needs either --config FILE or --demo, not both (see: storepulse help central)\n');
  });

  it('an invalid config: every problem, exit 2, no stack trace', async () => {
    const dir = await tempDir('central-cli');
    const file = path.join(dir, 'central.yaml');
    writeFileSync(file, 'mqtt:\n  url: http://nope\npostgres: {}\n');
    const r = await runCli(['central', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid config .*central\.yaml:\n {2}mqtt\.url: must start with mqtt:\/\//);
    expect(r.stderr).toMatch(/postgres\.url/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a database that does not answer: one line, exit 1', async () => {
    const dir = await tempDir('central-cli');
    const file = path.join(dir, 'central.yaml');
    const raw = parseYaml(readFileSync(EXAMPLE, 'utf8')) as { postgres: { url: string }; mqtt: { url: string; password?: string }; http?: unknown };
    delete raw.http;
    raw.postgres.url = `postgres://central@127.0.0.1:${await freePort()}/storepulse`;
    raw.mqtt = { url: `mqtt://127.0.0.1:${await freePort()}` };
    writeFileSync(file, JSON.stringify(raw));
    const r = await runCli(['central', '--config', file]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /^storepulse: cannot start central: .*ECONNREFUSED/);
  });
});

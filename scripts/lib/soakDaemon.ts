/**
 * The daemon under soak: `storepulse run` as its own process (exactly what systemd runs, from
 * source through tsx), with a generated config of N looping vtest.avi cameras, the embedded sensor
 * broker and an upstream broker. Its pid is what the probe reads /proc of; /metrics gives the V8
 * heap and event-loop lag from inside it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { DEMO_CONFIG } from '../../src/cli/runCommand.js';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { DATABASE_FILE } from '../../src/store/dataStore.js';
import { SENSOR_KINDS } from './soakSensorLoad.js';

export interface SoakDaemonOptions {
  dir: string;
  cameras: number;
  httpPort: number;
  sensorBrokerPort: number;
  sensorUser: { username: string; password: string };
  sensorTopicRoot: string;
  upstreamUrl: string;
  identity: { storeId: string; gatewayId: string };
}

const PROFILE_OF: Record<(typeof SENSOR_KINDS)[number], Record<string, unknown>> = {
  door: { profile: 'door_counter', counting: 'delta' },
  pos: { profile: 'pos' },
  feedback: { profile: 'feedback' },
  temp: { profile: 'numeric' },
};

/** The demo camera (vtest.avi looping, its lines and zones) repeated under N ids. */
function cameraConfigs(count: number): Record<string, unknown>[] {
  const demo = parseYaml(readFileSync(DEMO_CONFIG, 'utf8')) as { cameras: Record<string, unknown>[] };
  const template = demo.cameras[0]!;
  // A loaded 2-core machine can take longer than the 5 s default to decode a first frame after
  // the loop restarts; a restart storm there would be noise in the soak, not a finding.
  return Array.from({ length: count }, (_, i) => ({ ...template, id: `cam${i + 1}`, name: `soak camera ${i + 1}`, stall_timeout_s: 30 }));
}

export function soakConfig(o: SoakDaemonOptions): Record<string, unknown> {
  return {
    store_id: o.identity.storeId,
    gateway_id: o.identity.gatewayId,
    data_dir: path.join(o.dir, 'data'),
    // Plain HTTP/MQTT on loopback: the soak looks for leaks in the gateway, TLS is tests/tls.
    tls: { mode: 'off' },
    log: { level: 'warn' },
    timezone: 'Europe/Paris',
    cameras: cameraConfigs(o.cameras),
    sensors: {
      broker: { mode: 'embedded', host: '127.0.0.1', port: o.sensorBrokerPort, users: [o.sensorUser] },
      mqtt: SENSOR_KINDS.map((kind) => ({ id: `soak-${kind}`, topic: `${o.sensorTopicRoot}/${kind}/+`, ...PROFILE_OF[kind] })),
    },
    // Short reconnect backoff: the outages are the point of the test, the backoff is tested elsewhere.
    upstream: { mqtt: { url: o.upstreamUrl, reconnect: { initial_s: 0.2, max_s: 2 } } },
  };
}

export class SoakDaemon {
  private logTail = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly apiUrl: string,
    readonly databaseFile: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last few kilobytes the daemon logged (warnings and errors only, at log level warn). */
  get log(): string {
    return this.logTail;
  }

  static async start(o: SoakDaemonOptions, readyTimeoutMs = 180_000): Promise<SoakDaemon> {
    const configFile = path.join(o.dir, 'gateway.yaml');
    await writeFile(`${configFile}.tmp`, stringify(soakConfig(o)));
    await rename(`${configFile}.tmp`, configFile);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'run', '--config', configFile, '--port', String(o.httpPort)], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const daemon = new SoakDaemon(child, `http://127.0.0.1:${o.httpPort}`, path.join(o.dir, 'data', DATABASE_FILE));
    const keep = (d: Buffer): void => {
      daemon.logTail = (daemon.logTail + d.toString()).slice(-8000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const deadline = Date.now() + readyTimeoutMs;
    while ((await daemon.httpStatus('/readyz')) !== 200) {
      if (!daemon.running) throw new Error(`the daemon exited while starting:\n${daemon.log}`);
      if (Date.now() > deadline) {
        await daemon.stop();
        throw new Error(`the daemon was not ready within ${readyTimeoutMs / 1000} s:\n${daemon.log}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return daemon;
  }

  private async httpStatus(route: string): Promise<number> {
    try {
      return (await fetch(`${this.apiUrl}${route}`)).status;
    } catch {
      return 0;
    }
  }

  /** The Prometheus exposition, or undefined when the daemon did not answer. */
  async metrics(): Promise<string | undefined> {
    try {
      const response = await fetch(`${this.apiUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
      return response.ok ? await response.text() : undefined;
    } catch {
      return undefined;
    }
  }

  /** SIGTERM (a clean stop: the outbox is flushed, the retained status says offline) and wait. */
  async stop(): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    return new Promise((resolve) => {
      this.child.once('exit', (code) => resolve(code));
      this.child.kill('SIGTERM');
    });
  }
}

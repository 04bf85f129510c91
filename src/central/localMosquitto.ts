/**
 * A private mosquitto for `storepulse central --demo`: one anonymous listener on a free 127.0.0.1
 * port, no persistence, its config in a temporary directory. Why not the gateway's embedded broker
 * (aedes): central needs MQTT 5 shared subscriptions, which aedes does not implement; mosquitto 2
 * does, and it is what production fleets run (or a clustered broker: README "Past one machine").
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeLocalPort } from './localPostgres.js';

/** Why mosquitto cannot be started here, or undefined when it can. */
export function mosquittoUnavailable(): string | undefined {
  return spawnSync('mosquitto', ['-h']).error === undefined ? undefined : 'no mosquitto broker installed (deploy/central-setup.sh --demo installs it: apt-get install mosquitto)';
}

export class LocalMosquitto {
  private child: ChildProcess | undefined;
  log = '';
  private readonly killOnExit = (): void => void this.child?.kill('SIGKILL');

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<LocalMosquitto> {
    const reason = mosquittoUnavailable();
    if (reason) throw new Error(reason);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'storepulse-mosquitto-'));
    const broker = new LocalMosquitto(dir, await freeLocalPort());
    const conf = path.join(dir, 'mosquitto.conf');
    // max_queued_messages 0: no limit, so a worker's share waits in its session however long the
    // demo's ingest lags behind (the default 1000 would drop messages).
    writeFileSync(conf, ['persistence false', 'max_queued_messages 0', 'log_dest stderr', 'log_type error', 'log_type warning', `listener ${broker.port} 127.0.0.1`, 'allow_anonymous true', ''].join('\n'));
    // Started as root, mosquitto drops to the `mosquitto` user: it must still be able to read its config.
    chmodSync(dir, 0o755);
    chmodSync(conf, 0o644);
    const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (broker.log = (broker.log + d.toString()).slice(-5000)));
    broker.child = child;
    process.once('exit', broker.killOnExit);
    await broker.waitForPort();
    return broker;
  }

  private async waitForPort(timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    for (;;) {
      if (this.child?.exitCode !== null) throw new Error(`mosquitto exited at start: ${this.log}`);
      const ok = await new Promise<boolean>((resolve) => {
        const socket = net.connect(this.port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() - start > timeoutMs) throw new Error(`mosquitto did not open port ${this.port}: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the broker and removes its directory. */
  async destroy(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    process.removeListener('exit', this.killOnExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

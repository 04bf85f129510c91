/**
 * A real mosquitto for the tests, on 127.0.0.1 with three listeners: anonymous, username/password,
 * and TLS (a throw-away CA and server certificate made with openssl) with username/password.
 * Persistence is on so that a test subscriber's session survives a broker restart.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from './gatewayHarness.js';
import { terminate } from './childProcess.js';

export const MQTT_USER = 'gateway';
export const MQTT_PASSWORD = 'correct-horse';

export const hasMosquitto = (): boolean => spawnSync('mosquitto', ['-h']).error === undefined && spawnSync('openssl', ['version']).status === 0;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - start > timeoutMs) throw new Error(`mosquitto did not open port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class Mosquitto {
  private child: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly dir: string,
    readonly ports: { plain: number; auth: number; tls: number },
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.ports.plain}`;
  }
  get authUrl(): string {
    return `mqtt://127.0.0.1:${this.ports.auth}`;
  }
  get tlsUrl(): string {
    return `mqtts://localhost:${this.ports.tls}`;
  }
  get caFile(): string {
    return path.join(this.dir, 'ca.crt');
  }

  static async start(): Promise<Mosquitto> {
    const dir = await tempDir('mosquitto');
    const ports = { plain: await freePort(), auth: await freePort(), tls: await freePort() };
    const broker = new Mosquitto(dir, ports);
    broker.writeFiles();
    await broker.launch();
    return broker;
  }

  private writeFiles(): void {
    const f = (name: string): string => path.join(this.dir, name);
    run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=storepulse test CA']);
    run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
    writeFileSync(f('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('san.ext')]);
    run('mosquitto_passwd', ['-c', '-b', f('passwd'), MQTT_USER, MQTT_PASSWORD]);
    writeFileSync(
      f('mosquitto.conf'),
      [
        'per_listener_settings true',
        'persistence true',
        `persistence_location ${this.dir}/`,
        'max_queued_messages 0',
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        `listener ${this.ports.plain} 127.0.0.1`,
        'allow_anonymous true',
        `listener ${this.ports.auth} 127.0.0.1`,
        'allow_anonymous false',
        `password_file ${f('passwd')}`,
        `listener ${this.ports.tls} 127.0.0.1`,
        'allow_anonymous false',
        `password_file ${f('passwd')}`,
        `certfile ${f('server.crt')}`,
        `keyfile ${f('server.key')}`,
        '',
      ].join('\n'),
    );
    // Started as root, mosquitto drops to the `mosquitto` user before reading its files.
    if (process.getuid?.() === 0) {
      const { uid, gid } = mosquittoUser();
      if (uid !== undefined) {
        chmodSync(this.dir, 0o755);
        for (const name of ['server.key', 'passwd', 'server.crt', 'mosquitto.conf']) chownSync(f(name), uid, gid!);
        chownSync(this.dir, uid, gid!);
      }
    }
  }

  private async launch(): Promise<void> {
    const child = spawn('mosquitto', ['-c', path.join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-5000)));
    this.child = child;
    await waitForPort(this.ports.plain);
    await waitForPort(this.ports.tls);
  }

  /** Stops the broker (SIGTERM: it saves its persistent sessions). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    await terminate(child);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }
}

function mosquittoUser(): { uid?: number; gid?: number } {
  const r = spawnSync('id', ['-u', 'mosquitto'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'mosquitto'], { encoding: 'utf8' });
  if (r.status !== 0) return {};
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}


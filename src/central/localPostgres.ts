/**
 * A private PostgreSQL server started from Debian's binaries: `initdb` into a directory, `postgres`
 * on a free 127.0.0.1 port (and a unix socket in the same directory), trust authentication for its
 * one superuser. For `storepulse central --demo` and the tests; production runs against a
 * PostgreSQL set up by deploy/central-setup.sh.
 *
 * PostgreSQL refuses to run as root: as root the server runs as the `postgres` system user the
 * package creates, through setpriv (which execs, so the child's pid is the server's and signals reach
 * it directly — runuser would sit in between as a parent).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const ROOT = '/usr/lib/postgresql';
export const POSTGRES_SUPERUSER = 'storepulse';

/** The newest installed server's bin dir, or undefined when the package is not installed. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(ROOT)) return undefined;
  const versions = readdirSync(ROOT)
    .filter((v) => /^\d+$/.test(v) && existsSync(path.join(ROOT, v, 'bin', 'initdb')) && existsSync(path.join(ROOT, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(ROOT, versions[0], 'bin');
}

/** Why a local server cannot be started here, or undefined when it can. */
export function postgresUnavailable(): string | undefined {
  if (!postgresBinDir()) return `no PostgreSQL server binaries under ${ROOT} (install Debian's postgresql package: deploy/central-setup.sh, or deploy/setup.sh --test)`;
  if (process.getuid?.() === 0 && !systemUser('postgres')) return 'running as root and there is no `postgres` system user to run the server as';
  return undefined;
}

function systemUser(name: string): { uid: number; gid: number } | undefined {
  const u = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (u.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** The command prefix that drops root to the postgres user; nothing when not root. */
function asServerUser(): string[] {
  return process.getuid?.() === 0 ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'] : [];
}

export async function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface LocalPostgresOptions {
  /**
   * Off by default: the test and demo servers do not need crash safety of their disk, only
   * PostgreSQL's semantics. The benchmark turns it on, as in production.
   */
  fsync?: boolean;
}

export class LocalPostgres {
  private child: ChildProcess | undefined;
  log = '';
  private readonly killOnExit = (): void => void this.child?.kill('SIGKILL');

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly options: LocalPostgresOptions,
  ) {}

  /** A connection string for `database` (the server's own `postgres` database by default). */
  url(database = 'postgres'): string {
    return `postgres://${POSTGRES_SUPERUSER}@127.0.0.1:${this.port}/${database}`;
  }

  /** A new server in a new temporary directory (removed by destroy()). */
  static async start(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
    const reason = postgresUnavailable();
    if (reason) throw new Error(reason);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'storepulse-postgres-'));
    const server = new LocalPostgres(dir, await freeLocalPort(), postgresBinDir()!, options);
    const user = process.getuid?.() === 0 ? systemUser('postgres') : undefined;
    if (user) chownSync(dir, user.uid, user.gid);
    const [cmd, ...args] = [...asServerUser(), path.join(server.bin, 'initdb'), '-D', server.dataDir, '-A', 'trust', '-U', POSTGRES_SUPERUSER, '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'];
    const init = spawnSync(cmd!, args, { encoding: 'utf8' });
    if (init.status !== 0) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
    }
    await server.launch();
    return server;
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /** Starts the server on its data dir (again, after stop()). */
  async launch(): Promise<void> {
    const settings = [
      `listen_addresses=127.0.0.1`,
      `port=${this.port}`,
      `unix_socket_directories=${this.dir}`,
      `fsync=${this.options.fsync ? 'on' : 'off'}`,
      'max_connections=50',
    ];
    const [cmd, ...args] = [...asServerUser(), path.join(this.bin, 'postgres'), '-D', this.dataDir, ...settings.flatMap((s) => ['-c', s])];
    const child = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-5000)));
    this.child = child;
    process.once('exit', this.killOnExit);
    await this.waitReady();
  }

  private async waitReady(timeoutMs = 30_000): Promise<void> {
    const start = Date.now();
    for (;;) {
      if (this.child?.exitCode !== null) throw new Error(`postgres exited at start: ${this.log}`);
      const client = new pg.Client({ connectionString: this.url() });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (Date.now() - start > timeoutMs) throw new Error(`postgres did not accept connections on port ${this.port}: ${this.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Creates an empty database and returns its connection string. */
  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** Fast shutdown (SIGINT: disconnects clients, unlike SIGTERM's smart shutdown that waits for them). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    process.removeListener('exit', this.killOnExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      });
    }
  }

  /** Stops and starts the server on the same data and port (a database outage). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops the server and deletes its files. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

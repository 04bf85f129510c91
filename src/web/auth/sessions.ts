/**
 * Login sessions: a random 256-bit token in an HttpOnly, SameSite=Strict cookie; the session itself
 * (user, role, created / last seen / expiry) is kept in the gateway's SQLite file under the SHA-256 of
 * the token (src/store/sessionStore.ts), so a restart does not log anybody out and a copy of the
 * database opens no session. Sessions expire after 8 h without use. The database is opened on first
 * use, for the data_dir in force; if it cannot be opened, sessions are kept in memory (logged).
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { DATABASE_FILE } from '../../store/dataStore.js';
import { openDatabase, type Db } from '../../store/database.js';
import { SessionStore } from '../../store/sessionStore.js';
import type { Role } from './users.js';

export const SESSION_COOKIE = 'storepulse_session';
export const IDLE_MS = 8 * 3_600_000;

export interface Session {
  username: string;
  role: Role;
  createdAt: number;
  lastUsed: number;
  expiresAt: number;
}

export class Sessions {
  private opened: { file: string; db: Db; store: SessionStore } | undefined;
  /** Set by the web routes: where a database that cannot be opened is reported. */
  log: Logger | undefined;

  constructor(
    private readonly dataDir: () => string,
    private readonly now: () => number,
  ) {}

  create(username: string, role: Role): string {
    return this.store().create(username, role);
  }

  get(token: string | undefined): Session | undefined {
    if (!token) return undefined;
    const s = this.store().get(token);
    if (!s) return undefined;
    return { username: s.username, role: s.role as Role, createdAt: s.createdAt, lastUsed: s.lastSeenAt, expiresAt: s.expiresAt };
  }

  end(token: string | undefined): void {
    if (token) this.store().end(token);
  }

  /**
   * Logs a user out everywhere (a removed account), or everywhere but the session with `exceptToken`
   * (a password change keeps the session that made it). Returns how many sessions ended.
   */
  endUser(username: string, exceptToken?: string): number {
    return this.store().endUser(username, exceptToken);
  }

  prune(): number {
    return this.store().prune();
  }

  close(): void {
    this.opened?.db.close();
    this.opened = undefined;
  }

  private store(): SessionStore {
    const file = path.resolve(this.dataDir(), DATABASE_FILE);
    if (this.opened?.file === file) return this.opened.store;
    this.close();
    let db: Db;
    try {
      db = openDatabase(file);
    } catch (err) {
      this.log?.error({ err: (err as Error).message, file }, 'web UI: cannot open the database for sessions: they are kept in memory (a restart logs everyone out)');
      db = openDatabase(':memory:');
    }
    const store = new SessionStore(db, { now: this.now, idleMs: IDLE_MS });
    const pruned = store.prune();
    if (pruned > 0) this.log?.info({ pruned }, 'web UI: expired sessions removed');
    this.opened = { file, db, store };
    return store;
  }
}

/** A cookie's value, or undefined when absent or not decodable (a malformed %-escape is nobody's cookie). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${IDLE_MS / 1000}${secure ? '; Secure' : ''}`;
}

export function clearedCookie(secure = false): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

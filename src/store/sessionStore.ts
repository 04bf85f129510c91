/**
 * Web UI sessions in the gateway's SQLite file (table web_sessions, migration 3), so that a restart
 * does not log everybody out. The cookie holds a random 256-bit token; the table holds only its
 * SHA-256, with the user, the role and the created / last-seen / expiry times (epoch ms). A session
 * expires after `idleMs` without use; expired rows are deleted when met and on every new login.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isDiskFull, type Db } from './database.js';

export interface StoredSession {
  username: string;
  role: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

interface Row {
  username: string;
  role: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** A token as the cookie carries it: 32 random bytes, base64url (43 characters). */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const tokenHash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export interface SessionStoreOptions {
  now: () => number;
  /** Idle time after which a session is over. */
  idleMs: number;
  /**
   * last_seen_at is written at most this often per session: a live view polling every 0.7 s would
   * otherwise cost a durable (fsynced) write per request. Expiry is therefore accurate to this.
   */
  touchEveryMs?: number;
}

export class SessionStore {
  private readonly touchEveryMs: number;
  private readonly statements;

  constructor(
    readonly db: Db,
    private readonly options: SessionStoreOptions,
  ) {
    this.touchEveryMs = options.touchEveryMs ?? 60_000;
    this.statements = {
      insert: db.prepare('INSERT INTO web_sessions (token_hash, username, role, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)'),
      get: db.prepare('SELECT username, role, created_at, last_seen_at, expires_at FROM web_sessions WHERE token_hash = ?'),
      touch: db.prepare('UPDATE web_sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?'),
      delete: db.prepare('DELETE FROM web_sessions WHERE token_hash = ?'),
      deleteUser: db.prepare('DELETE FROM web_sessions WHERE username = ?'),
      deleteUserExcept: db.prepare('DELETE FROM web_sessions WHERE username = ? AND token_hash <> ?'),
      prune: db.prepare('DELETE FROM web_sessions WHERE expires_at <= ?'),
    };
  }

  /** A new session: returns the raw token (for the cookie only; it is not stored). */
  create(username: string, role: string): string {
    const now = this.options.now();
    this.prune();
    const token = randomBytes(32).toString('base64url');
    this.statements.insert.run(tokenHash(token), username, role, now, now, now + this.options.idleMs);
    return token;
  }

  /** The live session of this token (its expiry pushed back), or undefined; an expired one is deleted. */
  get(token: string | undefined): StoredSession | undefined {
    if (token === undefined || !TOKEN_PATTERN.test(token)) return undefined;
    const hash = tokenHash(token);
    const row = this.statements.get.get(hash) as Row | undefined;
    if (!row) return undefined;
    const now = this.options.now();
    if (row.expires_at <= now) {
      this.statements.delete.run(hash);
      return undefined;
    }
    let { last_seen_at: lastSeenAt, expires_at: expiresAt } = row;
    if (now - lastSeenAt >= this.touchEveryMs) {
      try {
        this.statements.touch.run(now, now + this.options.idleMs, hash);
        lastSeenAt = now;
        expiresAt = now + this.options.idleMs;
      } catch (err) {
        // A full disk must not lock the installer out of the UI that shows it: the session keeps
        // its stored expiry instead of being extended.
        if (!isDiskFull(err)) throw err;
      }
    }
    return { username: row.username, role: row.role, createdAt: row.created_at, lastSeenAt, expiresAt };
  }

  end(token: string | undefined): void {
    if (token !== undefined && TOKEN_PATTERN.test(token)) this.statements.delete.run(tokenHash(token));
  }

  /** Ends every session of a user, except the one with `exceptToken` (the one making a change). Returns how many. */
  endUser(username: string, exceptToken?: string): number {
    const result = exceptToken === undefined ? this.statements.deleteUser.run(username) : this.statements.deleteUserExcept.run(username, tokenHash(exceptToken));
    return result.changes;
  }

  /** Deletes expired sessions; returns how many. */
  prune(): number {
    return this.statements.prune.run(this.options.now()).changes;
  }
}

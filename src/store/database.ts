/**
 * The gateway's SQLite file: WAL for concurrent reads while writing, synchronous=FULL so that a
 * committed transaction survives a power cut (the WAL is fsynced on every commit), and numbered
 * migrations recorded in `user_version`.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, aggregates, outbox',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      -- Append-only observations; data is the StoreEvent as JSON, the other columns are for queries.
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts INTEGER NOT NULL,
        type TEXT NOT NULL,
        source TEXT NOT NULL,
        subject TEXT,
        data TEXT NOT NULL,
        recorded_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX events_ts ON events (ts);
      CREATE INDEX events_type_ts ON events (type, ts);
      -- KPI bins computed from the events (size '1m' are the 1-minute aggregates); a late event that
      -- changes a bin bumps its revision.
      CREATE TABLE aggregates (
        size TEXT NOT NULL,
        bin INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        data TEXT NOT NULL,
        computed_at INTEGER NOT NULL,
        PRIMARY KEY (size, bin)
      ) STRICT, WITHOUT ROWID;
      -- Store-and-forward: a row is deleted only after the broker acknowledged it. AUTOINCREMENT
      -- keeps seq increasing across deletes and restarts: it is the per-gateway sequence number.
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'dead letters',
    sql: `
      -- Sensor messages that were refused, with why: an installer fixes the device from this.
      -- The payload is kept (truncated) because it is a device's message, never a person's data.
      CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at INTEGER NOT NULL,
        channel TEXT NOT NULL,
        topic TEXT NOT NULL,
        sensor TEXT,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        payload BLOB NOT NULL,
        payload_bytes INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX dead_letters_received ON dead_letters (received_at);
    `,
  },
  {
    version: 3,
    name: 'web UI sessions',
    sql: `
      -- Logged-in web UI sessions, so that a restart does not log everybody out. Only the SHA-256 of
      -- the cookie's random token is kept: a copy of this file does not open a session.
      CREATE TABLE web_sessions (
        token_hash BLOB PRIMARY KEY,
        username TEXT NOT NULL,
        role TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX web_sessions_username ON web_sessions (username);
      CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
    `,
  },
  {
    version: 4,
    name: 'change annotations',
    sql: `
      -- Operational notes on the time axis ("display moved", "promo start"), optionally about a zone
      -- or line: what an impact analysis compares around. Never about a person.
      CREATE TABLE annotations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts INTEGER NOT NULL,
        text TEXT NOT NULL,
        subject TEXT,
        created_by TEXT,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX annotations_ts ON annotations (ts);
    `,
  },
  {
    version: 5,
    name: 'journey bins',
    sql: `
      -- Customer-journey counts per minute (src/analytics/journeys): transition, path, funnel and
      -- buying-unit counts as JSON, never a track id. setup identifies the journey settings they were
      -- counted under; only bins of the running settings are read back after a restart.
      CREATE TABLE journey_bins (
        setup TEXT NOT NULL,
        minute INTEGER NOT NULL,
        counts TEXT NOT NULL,
        saved_at INTEGER NOT NULL,
        PRIMARY KEY (setup, minute)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX journey_bins_minute ON journey_bins (minute);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

export class StoreError extends Error {}

/** Opens (creating if needed) and migrates the database; `:memory:` works for tests. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let db: Db;
  try {
    db = new Database(file);
  } catch (err) {
    throw new StoreError(`cannot open the database ${file}: ${(err as Error).message}`);
  }
  try {
    const fresh = (db.pragma('user_version', { simple: true }) as number) === 0;
    // Must precede the first table: lets pruning give pages back to the file system.
    if (fresh) db.pragma('auto_vacuum = INCREMENTAL');
    if (file !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot prepare the database ${file}: ${(err as Error).message}`);
  }
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new StoreError(`the database schema is version ${current}, newer than this storepulse (${SCHEMA_VERSION}): upgrade storepulse or restore a backup`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      if (m.version === 1) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('database_id', randomUUID());
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

export function getMeta(db: Db, key: string): string | undefined {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** Bytes in use by pages that hold data (free pages are reused before the file grows). */
export function usedBytes(db: Db): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * pageSize;
}

export const isDiskFull = (err: unknown): boolean => (err as { code?: string }).code === 'SQLITE_FULL';

/**
 * The outbox table: messages in sequence order, deleted only once the broker has acknowledged them.
 * Enqueueing happens inside the caller's transaction (an event and its message commit together).
 */
import type { Db } from './database.js';
import type { OutboxMessage, OutboxRow } from '../upstream/messages.js';

export class Outbox {
  private readonly insert;
  private readonly selectAfter;
  private readonly deleteUpTo;
  private readonly countRows;

  constructor(private readonly db: Db) {
    // OR IGNORE: a message re-enqueued with the same key (a recomputed bin that did not change) is
    // already there; the key is the idempotency key upstream.
    this.insert = db.prepare('INSERT OR IGNORE INTO outbox (key, kind, topic, payload, created_at) VALUES (?, ?, ?, ?, ?)');
    this.selectAfter = db.prepare('SELECT seq, key, kind, topic, payload, created_at FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');
    this.deleteUpTo = db.prepare('DELETE FROM outbox WHERE seq <= ?');
    this.countRows = db.prepare('SELECT count(*) AS n, min(created_at) AS oldest FROM outbox');
  }

  /** Call inside a transaction; returns the sequence number (undefined if the key was already queued). */
  enqueue(message: OutboxMessage, now: number): number | undefined {
    const result = this.insert.run(message.key, message.kind, message.topic, JSON.stringify(message.body), now);
    return result.changes === 1 ? Number(result.lastInsertRowid) : undefined;
  }

  /** The next messages after `afterSeq`, oldest first. */
  next(afterSeq: number, limit: number): OutboxRow[] {
    return this.selectAfter.all(afterSeq, limit) as OutboxRow[];
  }

  /** The broker acknowledged everything up to `seq` (acknowledgements arrive in order). */
  acknowledge(seq: number): number {
    return this.deleteUpTo.run(seq).changes;
  }

  backlog(): { count: number; oldestCreatedAt: number | undefined } {
    const row = this.countRows.get() as { n: number; oldest: number | null };
    return { count: row.n, oldestCreatedAt: row.oldest ?? undefined };
  }
}

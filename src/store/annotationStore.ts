/**
 * Change annotations in the gateway's SQLite file: short operational notes on the time axis
 * ("display moved to the end-cap", "promo start"), optionally about a zone or a line, that the
 * dashboards show and the impact analysis is asked about. Retention leaves them alone: a handful of
 * rows a month.
 *
 * Upstream: given an outbox, each one added is queued for central (topic `annotations`) in the
 * transaction that stores it, and each one removed queues a tombstone, so central's copy follows the
 * gateway's through outages (store-and-forward). What goes up is the id, time, text, subject and
 * creation time; `created_by` never leaves the box (upstream/messages.ts).
 */
import { annotationMessage, annotationTombstone, type GatewayIdentity } from '../upstream/messages.js';
import { getMeta, setMeta, type Db } from './database.js';

/** Meta key set once the annotations that predate upstream publishing have been queued. */
const EARLIER_ONES_QUEUED = 'annotations_queued_upstream_at';
import type { Outbox } from './outbox.js';

export const MAX_ANNOTATION_TEXT = 500;
/** store, zone:NAME, line:NAME, camera:ID — optionally zone:CAMERA/NAME. */
export const ANNOTATION_SUBJECT = /^(?:store|(?:zone|line):(?:[A-Za-z0-9_.:-]+\/)?[A-Za-z0-9_.:-]+|camera:[A-Za-z0-9_.:-]+)$/;

export interface Annotation {
  id: number;
  ts: number;
  text: string;
  subject: string | null;
  /** The API token's name or the web UI user who wrote it (for the installer's audit, not exported). */
  created_by: string | null;
  created_at: number;
}

export interface NewAnnotation {
  ts: number;
  text: string;
  subject?: string;
  createdBy?: string;
}

export class AnnotationError extends Error {}

/** Every problem with a new annotation, so the caller can say them all at once. */
export function annotationProblems(a: NewAnnotation): string[] {
  const problems: string[] = [];
  if (!Number.isFinite(a.ts) || a.ts < 0) problems.push('time must be a valid date');
  const text = a.text.trim();
  if (text.length === 0) problems.push('text must not be empty');
  if (text.length > MAX_ANNOTATION_TEXT) problems.push(`text must be at most ${MAX_ANNOTATION_TEXT} characters, got ${text.length}`);
  // Control characters would break CSV exports and log lines; newlines are refused for the same reason.
  if ([...text].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) problems.push('text must be one line without control characters');
  if (a.subject !== undefined && !ANNOTATION_SUBJECT.test(a.subject)) problems.push(`subject must be store, zone:NAME, line:NAME or camera:ID, got "${a.subject}"`);
  return problems;
}

interface Row {
  id: number;
  ts: number;
  text: string;
  subject: string | null;
  created_by: string | null;
  created_at: number;
}

/** Where added and removed annotations are queued for central (the gateway's outbox and identity). */
export interface AnnotationUpstream {
  outbox: Outbox;
  identity: () => GatewayIdentity;
}

export class AnnotationStore {
  /** Without `upstream` (the CLI, tests of the table itself) nothing is queued. */
  constructor(
    private readonly db: Db,
    private readonly upstream?: AnnotationUpstream,
  ) {}

  add(a: NewAnnotation, now: number): Annotation {
    const problems = annotationProblems(a);
    if (problems.length) throw new AnnotationError(problems.join('; '));
    const text = a.text.trim();
    // One transaction: the annotation and its upstream message are stored together or not at all.
    return this.db.transaction((): Annotation => {
      const id = Number(
        this.db.prepare('INSERT INTO annotations (ts, text, subject, created_by, created_at) VALUES (?, ?, ?, ?, ?)').run(a.ts, text, a.subject ?? null, a.createdBy ?? null, now)
          .lastInsertRowid,
      );
      const annotation: Annotation = { id, ts: a.ts, text, subject: a.subject ?? null, created_by: a.createdBy ?? null, created_at: now };
      if (this.upstream) this.upstream.outbox.enqueue(annotationMessage(annotation, this.upstream.identity()), now);
      return annotation;
    })();
  }

  /** Annotations with from ≤ ts < to, oldest first; `subject` also keeps the store-wide ones (no subject). */
  list(q: { from: number; to: number; subject?: string; limit?: number }): Annotation[] {
    const where = ['ts >= @from', 'ts < @to'];
    if (q.subject) where.push('(subject = @subject OR subject IS NULL OR subject = @store)');
    return this.db
      .prepare(`SELECT id, ts, text, subject, created_by, created_at FROM annotations WHERE ${where.join(' AND ')} ORDER BY ts, id LIMIT @limit`)
      .all({ from: q.from, to: q.to, subject: q.subject ?? null, store: 'store', limit: q.limit ?? -1 }) as Row[];
  }

  /**
   * Queues, once per database, the annotations written before they were sent upstream (a gateway
   * upgraded from a version that kept them on the box), so central's before/after sees the store's
   * past changes too. Returns how many were queued; later calls queue nothing (central ignores a
   * repeat anyway: it keys annotations by store, gateway, source and id).
   */
  queueEarlierOnes(now: number): number {
    if (!this.upstream) return 0;
    const upstream = this.upstream;
    return this.db.transaction((): number => {
      if (getMeta(this.db, EARLIER_ONES_QUEUED) !== undefined) return 0;
      const rows = this.db.prepare('SELECT id, ts, text, subject, created_by, created_at FROM annotations ORDER BY id').all() as Row[];
      for (const a of rows) upstream.outbox.enqueue(annotationMessage(a, upstream.identity()), now);
      setMeta(this.db, EARLIER_ONES_QUEUED, String(now));
      return rows.length;
    })();
  }

  /** `now` (the gateway's clock) dates the tombstone sent upstream. */
  remove(id: number, now: number = Date.now()): boolean {
    return this.db.transaction((): boolean => {
      const removed = this.db.prepare('DELETE FROM annotations WHERE id = ?').run(id).changes > 0;
      // Only a removal that happened is announced: a repeated DELETE queues nothing.
      if (removed && this.upstream) this.upstream.outbox.enqueue(annotationTombstone(id, now, this.upstream.identity()), now);
      return removed;
    })();
  }
}

/**
 * Change annotations in the gateway's SQLite file: short operational notes on the time axis
 * ("display moved to the end-cap", "promo start"), optionally about a zone or a line, that the
 * dashboards show and the impact analysis is asked about. They stay on the box (nothing upstream)
 * and retention leaves them alone: a handful of rows a month.
 */
import type { Db } from './database.js';

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

export class AnnotationStore {
  constructor(private readonly db: Db) {}

  add(a: NewAnnotation, now: number): Annotation {
    const problems = annotationProblems(a);
    if (problems.length) throw new AnnotationError(problems.join('; '));
    const text = a.text.trim();
    const id = Number(
      this.db.prepare('INSERT INTO annotations (ts, text, subject, created_by, created_at) VALUES (?, ?, ?, ?, ?)').run(a.ts, text, a.subject ?? null, a.createdBy ?? null, now)
        .lastInsertRowid,
    );
    return { id, ts: a.ts, text, subject: a.subject ?? null, created_by: a.createdBy ?? null, created_at: now };
  }

  /** Annotations with from ≤ ts < to, oldest first; `subject` also keeps the store-wide ones (no subject). */
  list(q: { from: number; to: number; subject?: string; limit?: number }): Annotation[] {
    const where = ['ts >= @from', 'ts < @to'];
    if (q.subject) where.push('(subject = @subject OR subject IS NULL OR subject = @store)');
    return this.db
      .prepare(`SELECT id, ts, text, subject, created_by, created_at FROM annotations WHERE ${where.join(' AND ')} ORDER BY ts, id LIMIT @limit`)
      .all({ from: q.from, to: q.to, subject: q.subject ?? null, store: 'store', limit: q.limit ?? -1 }) as Row[];
  }

  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM annotations WHERE id = ?').run(id).changes > 0;
  }
}

/**
 * What the fleet before/after comparison (GET /api/v1/fleet/impact) and the annotation list read
 * from PostgreSQL: the gateways' live annotations (migration 6) and, per window, every store's sums
 * over the hours it reported on both sides (the store_hours rollup of migration 4). The changes,
 * controls and summary are computed by impactMaths.ts.
 */
import type pg from 'pg';
import { fleetImpactReport, windowsToFetch, type FleetImpactReport, type MatchedAnnotation, type WindowTotals } from './impactMaths.js';

/** Longest side of a comparison: a quarter, as on the gateway (MAX_IMPACT_WEEKS). */
export const MAX_IMPACT_DAYS = 91;
/**
 * Distinct change hours one request may compare: each is a pass over every store's hours of its
 * window (the control stores need them all). A fleet-wide roll-out is a few dates, not hundreds.
 */
export const MAX_IMPACT_WINDOWS = 60;

export class TooManyWindowsError extends Error {}

// The annotation's text contains `match` (case-insensitive), or its subject is `match`. strpos, not
// LIKE: a user's % or _ is a character to look for, not a pattern.
const MATCHING_ANNOTATIONS = `
  SELECT store_id, gateway_id, annotation_id, ts, text, subject FROM annotations
  WHERE deleted_at IS NULL AND (strpos(lower(text), lower($1)) > 0 OR subject = $1)
    AND ($2::timestamptz IS NULL OR ts >= $2) AND ($3::timestamptz IS NULL OR ts < $3)
  ORDER BY store_id, ts, gateway_id, annotation_id`;

// Each store's sums over the pairs (after hour, the same hour shift_s earlier) that both have bins.
// The store_hours primary key (hour, store_id) serves both sides: a range of hours, then one lookup
// per pair.
const WINDOW_TOTALS = `
  SELECT w.after_from, a.store_id::text AS store_id, count(*)::integer AS hours,
         sum(b.traffic_in)::bigint AS traffic_before, sum(a.traffic_in)::bigint AS traffic_after,
         sum(b.transactions)::bigint AS transactions_before, sum(a.transactions)::bigint AS transactions_after,
         sum(b.sales)::double precision AS sales_before, sum(a.sales)::double precision AS sales_after
  FROM unnest($1::timestamptz[], $2::timestamptz[], $3::timestamptz[], $4::bigint[]) AS w(after_from, after_to, before_to, shift_s)
  JOIN store_hours a ON a.hour >= w.after_from AND a.hour < w.after_to AND a.bins > 0
  JOIN store_hours b ON b.store_id = a.store_id AND b.hour = a.hour - w.shift_s * interval '1 second' AND b.hour < w.before_to AND b.bins > 0
  GROUP BY w.after_from, a.store_id
  ORDER BY w.after_from, a.store_id`;

/** Optional bounds on the annotations' time: only changes in [from, to) count. */
export interface AnnotationPeriod {
  from?: Date;
  to?: Date;
}

export async function matchingAnnotations(db: pg.Pool | pg.ClientBase, match: string, period: AnnotationPeriod = {}): Promise<MatchedAnnotation[]> {
  const { rows } = await db.query<{ store_id: string; gateway_id: string; annotation_id: string; ts: Date; text: string; subject: string | null }>(MATCHING_ANNOTATIONS, [
    match,
    period.from ?? null,
    period.to ?? null,
  ]);
  return rows.map((r) => ({ storeId: r.store_id, gatewayId: r.gateway_id, id: Number(r.annotation_id), ts: r.ts.getTime(), text: r.text, subject: r.subject }));
}

/** The before/after report for annotations matching `match` (in `period`), `days` on either side. */
export async function fleetImpact(db: pg.Pool | pg.ClientBase, match: string, days: number, period: AnnotationPeriod = {}): Promise<FleetImpactReport> {
  const annotations = await matchingAnnotations(db, match, period);
  const windows = windowsToFetch(annotations, days);
  if (windows.length > MAX_IMPACT_WINDOWS) {
    throw new TooManyWindowsError(`"${match}" matches changes at ${windows.length} different hours; at most ${MAX_IMPACT_WINDOWS} per request (use a more specific match)`);
  }
  let totals: WindowTotals[] = [];
  if (windows.length > 0) {
    const { rows } = await db.query<{
      after_from: Date;
      store_id: string;
      hours: number;
      traffic_before: string;
      traffic_after: string;
      transactions_before: string;
      transactions_after: string;
      sales_before: number;
      sales_after: number;
    }>(WINDOW_TOTALS, [windows.map((w) => new Date(w.afterFrom)), windows.map((w) => new Date(w.afterTo)), windows.map((w) => new Date(w.beforeTo)), windows.map((w) => w.shiftMs / 1000)]);
    totals = rows.map((r) => ({
      afterFrom: r.after_from.getTime(),
      storeId: r.store_id,
      hours: r.hours,
      before: { traffic: Number(r.traffic_before), transactions: Number(r.transactions_before), sales: r.sales_before },
      after: { traffic: Number(r.traffic_after), transactions: Number(r.transactions_after), sales: r.sales_after },
    }));
  }
  return fleetImpactReport({ match, days, annotations, totals });
}

export interface FleetAnnotation {
  store_id: string;
  gateway_id: string;
  id: number;
  time: string;
  text: string;
  subject: string | null;
  created_at: string;
}

/** Live annotations with from ≤ time < to, oldest first (the dashboard's list). */
export async function fleetAnnotations(db: pg.Pool | pg.ClientBase, from: Date, to: Date, limit = 1000): Promise<FleetAnnotation[]> {
  const { rows } = await db.query<{ store_id: string; gateway_id: string; annotation_id: string; ts: Date; text: string; subject: string | null; created_at: Date }>(
    `SELECT store_id, gateway_id, annotation_id, ts, text, subject, created_at FROM annotations
     WHERE deleted_at IS NULL AND ts >= $1 AND ts < $2 ORDER BY ts, store_id, gateway_id, annotation_id LIMIT $3`,
    [from, to, limit],
  );
  return rows.map((r) => ({ store_id: r.store_id, gateway_id: r.gateway_id, id: Number(r.annotation_id), time: r.ts.toISOString(), text: r.text, subject: r.subject, created_at: r.created_at.toISOString() }));
}

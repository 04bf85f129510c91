/**
 * KPI bins and events as flat tables for export: one row per bin, metric and subject (the "long"
 * layout that spreadsheets pivot and BI tools load without a schema), and events with one column
 * per field. Pure; the HTTP layer turns the rows into CSV.
 */
import type { StoreEvent } from './events.js';
import type { KpiBin } from './kpiEngine.js';

export interface KpiRow {
  from: number;
  to: number;
  metric: string;
  subject: string;
  value: number | null;
}

export interface SubjectFilter {
  camera?: string;
  line?: string;
  zone?: string;
}

const PLAN_ENTRANCE = /^plan:(.*)$/s;

const keep = (key: string, f: SubjectFilter, kind: 'line' | 'zone'): boolean => {
  // A plan line among the entrances ("plan:<line>") belongs to no camera.
  const planLine = PLAN_ENTRANCE.exec(key)?.[1];
  const [camera, name] = planLine !== undefined ? [undefined, planLine] : key.includes('/') ? key.split('/', 2) : [undefined, key];
  if (f.camera && camera !== f.camera) return false;
  if (kind === 'line' && f.zone) return false;
  if (kind === 'zone' && f.line) return false;
  const wanted = kind === 'line' ? f.line : f.zone;
  return !wanted || name === wanted;
};

const pick = <T>(map: Record<string, T>, f: SubjectFilter, kind: 'line' | 'zone'): Record<string, T> =>
  Object.fromEntries(Object.entries(map).filter(([key]) => keep(key, f, kind)));

/** The plan section's lines and zones asked for: plan keys are bare names, and no camera's. */
function filterPlan(plan: NonNullable<KpiBin['plan']>, f: SubjectFilter): NonNullable<KpiBin['plan']> {
  const named = <T>(map: Record<string, T>, kind: 'line' | 'zone'): Record<string, T> => {
    if (f.camera) return {};
    const wanted = kind === 'line' ? f.line : f.zone;
    const other = kind === 'line' ? f.zone : f.line;
    if (other && !wanted) return {};
    return Object.fromEntries(Object.entries(map).filter(([name]) => !wanted || name === wanted));
  };
  return { lines: named(plan.lines, 'line'), zones: named(plan.zones, 'zone'), queues: named(plan.queues, 'zone') };
}

/** Keeps only the lines and zones asked for; store-wide numbers stay. */
export function filterBin(bin: KpiBin, f: SubjectFilter): KpiBin {
  if (!f.camera && !f.line && !f.zone) return bin;
  return {
    ...bin,
    traffic: { ...bin.traffic, by_entrance: pick(bin.traffic.by_entrance, f, 'line') },
    lines: pick(bin.lines, f, 'line'),
    zones: pick(bin.zones, f, 'zone'),
    queues: pick(bin.queues, f, 'zone'),
    satisfaction: pick(bin.satisfaction, f, 'zone'),
    ...(bin.plan ? { plan: filterPlan(bin.plan, f) } : {}),
  };
}

const ZONE_METRICS = ['visits', 'passes', 'engaged', 'dwell_mean_s', 'dwell_p50_s', 'dwell_p90_s', 'bounce_rate', 'visit_rate'] as const;
const QUEUE_METRICS = ['length_mean', 'length_max', 'served', 'wait_mean_s', 'wait_p90_s'] as const;

export function kpiRows(bin: KpiBin): KpiRow[] {
  const rows: KpiRow[] = [];
  const add = (metric: string, subject: string, value: number | null): void => {
    rows.push({ from: bin.from, to: bin.to, metric, subject, value });
  };
  add('traffic_in', 'store', bin.traffic.in);
  add('traffic_out', 'store', bin.traffic.out);
  for (const [k, v] of Object.entries(bin.traffic.by_entrance)) {
    add('entrance_in', k, v.in);
    add('entrance_out', k, v.out);
  }
  add('occupancy_end', 'store', bin.occupancy.end);
  add('occupancy_max', 'store', bin.occupancy.max);
  if (bin.staff) {
    add('staff_entries', 'store', bin.staff.entries);
    add('staff_present_mean', 'store', bin.staff.present_mean);
    add('shopper_in', 'store', bin.staff.shopper_in);
    add('shoppers_per_staff', 'store', bin.staff.shoppers_per_staff);
  }
  for (const [k, v] of Object.entries(bin.lines)) {
    add('line_in', k, v.in);
    add('line_out', k, v.out);
  }
  for (const [k, z] of Object.entries(bin.zones)) {
    for (const m of ZONE_METRICS) add(`zone_${m}`, k, z[m]);
  }
  for (const [k, q] of Object.entries(bin.queues)) {
    for (const m of QUEUE_METRICS) add(`queue_${m}`, k, q[m]);
  }
  // Floor-plan lines and zones: the camera metrics' names with a "plan_" prefix, the subject the
  // plan name, so a plan zone never shares a row key with a camera zone of the same name.
  if (bin.plan) {
    for (const [k, v] of Object.entries(bin.plan.lines)) {
      add('plan_line_in', k, v.in);
      add('plan_line_out', k, v.out);
    }
    for (const [k, z] of Object.entries(bin.plan.zones)) {
      for (const m of ZONE_METRICS) add(`plan_zone_${m}`, k, z[m]);
      add('plan_zone_occupancy_mean', k, z.occupancy_mean);
      add('plan_zone_occupancy_max', k, z.occupancy_max);
    }
    for (const [k, q] of Object.entries(bin.plan.queues)) {
      for (const m of QUEUE_METRICS) add(`plan_queue_${m}`, k, q[m]);
    }
  }
  if (bin.passers_by !== null) {
    add('passers_by', 'store', bin.passers_by);
    add('capture_rate', 'store', bin.capture_rate);
  }
  add('transactions', 'store', bin.transactions);
  add('sales', 'store', bin.sales);
  add('conversion', 'store', bin.conversion);
  add('sales_per_visitor', 'store', bin.sales_per_visitor);
  for (const [k, s] of Object.entries(bin.satisfaction)) {
    add('satisfaction_votes', k, s.votes);
    add('satisfaction_score', k, s.score);
  }
  return rows;
}

export const EVENT_COLUMNS = ['direction', 'enter_ts', 'dwell_ms', 'counted', 'in', 'out', 'amount', 'currency', 'items', 'score', 'scale', 'present', 'value', 'unit'] as const;

/** An event's own fields as columns (absent ones empty). */
export function eventColumns(event: StoreEvent): (string | number | boolean | undefined)[] {
  const fields = event as unknown as Record<string, string | number | boolean | undefined>;
  return EVENT_COLUMNS.map((c) => fields[c]);
}

/** RFC 4180 CSV. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | boolean | null | undefined)[])[]): string {
  const cell = (v: string | number | boolean | null | undefined): string => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

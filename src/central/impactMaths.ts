/**
 * The arithmetic of the fleet before/after comparison (GET /api/v1/fleet/impact). Pure: the query
 * module (fleetImpact.ts) fetches the annotations and each store's summed hours, this turns them
 * into per-store changes, a fleet summary and a difference-in-differences against the stores that
 * did not make the change.
 *
 * Windows: the "after" side is the N days from the hour after the one the change happened in (that
 * hour is part before, part after: left out of both sides); the "before" side is the same hours
 * moved back by whole weeks (the fewest weeks covering N days), so that both sides hold the same
 * weekdays and hours of the day (a Saturday after is compared with a Saturday before), and it ends
 * before the change's hour. A pair of hours counts only when the store reported both (a gateway that
 * was offline on one side does not read as a drop). A window depends only on the change's hour, so
 * changes in the same hour share one.
 * Hours are UTC: across a daylight-saving change a local hour shifts by one against its pair.
 */

const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface ImpactWindow {
  /** First hour after the change (epoch ms, inclusive). */
  afterFrom: number;
  /** End of the after side (exclusive). */
  afterTo: number;
  /** Start of the before side: afterFrom − shiftMs. */
  beforeFrom: number;
  /** Before hours end here (exclusive): at the latest the start of the change's hour. */
  beforeTo: number;
  /** Each after hour is paired with the hour this much earlier (whole weeks). */
  shiftMs: number;
}

export function impactWindow(changeTs: number, days: number): ImpactWindow {
  const changeHour = Math.floor(changeTs / HOUR) * HOUR;
  const afterFrom = changeHour + HOUR;
  const shiftMs = Math.ceil(days / 7) * 7 * DAY;
  const afterTo = afterFrom + days * DAY;
  return { afterFrom, afterTo, beforeFrom: afterFrom - shiftMs, beforeTo: Math.min(afterTo - shiftMs, changeHour), shiftMs };
}

export interface Totals {
  traffic: number;
  transactions: number;
  sales: number;
}

/** One store's sums over the paired hours of one window (keyed by the window's afterFrom). */
export interface WindowTotals {
  afterFrom: number;
  storeId: string;
  /** Pairs of hours compared. */
  hours: number;
  before: Totals;
  after: Totals;
}

export interface MatchedAnnotation {
  storeId: string;
  gatewayId: string;
  id: number;
  /** Epoch ms of the change. */
  ts: number;
  text: string;
  subject: string | null;
}

export const IMPACT_METRICS = ['traffic', 'conversion', 'sales_per_visitor'] as const;
export type ImpactMetric = (typeof IMPACT_METRICS)[number];
export type MetricValues = Record<ImpactMetric, number | null>;

export interface StoreImpact {
  store_id: string;
  /** The store's first matching annotation: the change compared. */
  annotation: { gateway_id: string; id: number; time: string; text: string; subject: string | null };
  /** How many annotations of this store matched (later ones are inside or after its window). */
  matching_annotations: number;
  before: { from: string; to: string };
  after: { from: string; to: string };
  hours: number;
  values_before: MetricValues;
  values_after: MetricValues;
  /** after / before − 1 (0.25 is +25 %); null without a before value. */
  change: MetricValues;
  /** Mean change of the control stores over the same hours; null without control stores. */
  control_change: MetricValues;
  /** change − control_change: the difference in differences. */
  did: MetricValues;
}

export interface MetricSummary {
  /** Stores with a change for this metric. */
  stores: number;
  mean_change: number | null;
  median_change: number | null;
  up: number;
  down: number;
  unchanged: number;
  mean_control_change: number | null;
  mean_did: number | null;
}

export interface FleetImpactReport {
  match: string;
  days: number;
  /** Whole weeks between an after hour and the before hour it is compared with. */
  shift_days: number;
  stores: StoreImpact[];
  /** Stores without a matching annotation that had hours in at least one window. */
  control_stores: number;
  summary: Record<ImpactMetric, MetricSummary>;
}

const valuesOf = (t: Totals | undefined): MetricValues => ({
  traffic: t ? t.traffic : null,
  conversion: t && t.traffic > 0 ? t.transactions / t.traffic : null,
  sales_per_visitor: t && t.traffic > 0 ? t.sales / t.traffic : null,
});

/**
 * Relative change of a rate num/den from before to after (den 1 for a plain count): after / before − 1,
 * computed as (numA·denB − numB·denA) / (numB·denA) so that whole-number sums give the correctly
 * rounded figure (+20 % is 0.2, not 0.19999999999999996). Null when there is nothing to compare against.
 */
export function rateChange(numBefore: number, denBefore: number, numAfter: number, denAfter: number): number | null {
  if (!(denBefore > 0) || !(denAfter > 0) || numBefore === 0) return null;
  return (numAfter * denBefore - numBefore * denAfter) / (numBefore * denAfter);
}

const changesOf = (row: WindowTotals | undefined): MetricValues => {
  if (!row || row.hours === 0) return { traffic: null, conversion: null, sales_per_visitor: null };
  const { before: b, after: a } = row;
  return {
    traffic: rateChange(b.traffic, 1, a.traffic, 1),
    conversion: rateChange(b.transactions, b.traffic, a.transactions, a.traffic),
    sales_per_visitor: rateChange(b.sales, b.traffic, a.sales, a.traffic),
  };
};

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const present = (values: readonly (number | null)[]): number[] => values.filter((v): v is number => v !== null);
const perMetric = (f: (m: ImpactMetric) => number | null): MetricValues => ({ traffic: f('traffic'), conversion: f('conversion'), sales_per_visitor: f('sales_per_visitor') });
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The report. `annotations`: every live annotation that matched (any store, any order); `totals`:
 * every store's sums for the window of each annotated store's first matching annotation.
 */
export function fleetImpactReport(input: { match: string; days: number; annotations: readonly MatchedAnnotation[]; totals: readonly WindowTotals[] }): FleetImpactReport {
  const firstByStore = new Map<string, { first: MatchedAnnotation; count: number }>();
  for (const a of input.annotations) {
    const seen = firstByStore.get(a.storeId);
    if (!seen) firstByStore.set(a.storeId, { first: a, count: 1 });
    else {
      seen.count += 1;
      if (a.ts < seen.first.ts || (a.ts === seen.first.ts && (a.gatewayId < seen.first.gatewayId || (a.gatewayId === seen.first.gatewayId && a.id < seen.first.id)))) seen.first = a;
    }
  }
  // Rows by window, then store.
  const byWindow = new Map<number, Map<string, WindowTotals>>();
  for (const t of input.totals) {
    let rows = byWindow.get(t.afterFrom);
    if (!rows) byWindow.set(t.afterFrom, (rows = new Map()));
    rows.set(t.storeId, t);
  }
  const controlStores = new Set<string>();
  const controlChangeCache = new Map<number, MetricValues>();
  // Mean change of the stores without the annotation over one window's hours.
  const controlChange = (afterFrom: number): MetricValues => {
    const cached = controlChangeCache.get(afterFrom);
    if (cached) return cached;
    const controls = [...(byWindow.get(afterFrom)?.values() ?? [])].filter((t) => !firstByStore.has(t.storeId) && t.hours > 0);
    for (const c of controls) controlStores.add(c.storeId);
    const changes = controls.map(changesOf);
    const result = perMetric((m) => mean(present(changes.map((c) => c[m]))));
    controlChangeCache.set(afterFrom, result);
    return result;
  };

  const stores: StoreImpact[] = [...firstByStore.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([storeId, { first, count }]) => {
      const w = impactWindow(first.ts, input.days);
      const row = byWindow.get(w.afterFrom)?.get(storeId);
      const hours = row?.hours ?? 0;
      const change = changesOf(row);
      const control = controlChange(w.afterFrom);
      return {
        store_id: storeId,
        annotation: { gateway_id: first.gatewayId, id: first.id, time: iso(first.ts), text: first.text, subject: first.subject },
        matching_annotations: count,
        before: { from: iso(w.beforeFrom), to: iso(w.beforeTo) },
        after: { from: iso(w.afterFrom), to: iso(w.afterTo) },
        hours,
        values_before: valuesOf(hours ? row!.before : undefined),
        values_after: valuesOf(hours ? row!.after : undefined),
        change,
        control_change: control,
        did: perMetric((m) => (change[m] === null || control[m] === null ? null : change[m]! - control[m]!)),
      };
    });

  const summaryOf = (m: ImpactMetric): MetricSummary => {
    // Over the stores with a change only, so that mean_change − mean_control_change = mean_did.
    const compared = stores.filter((s) => s.change[m] !== null);
    const changes = compared.map((s) => s.change[m]!);
    return {
      stores: changes.length,
      mean_change: mean(changes),
      median_change: median(changes),
      up: changes.filter((c) => c > 0).length,
      down: changes.filter((c) => c < 0).length,
      unchanged: changes.filter((c) => c === 0).length,
      mean_control_change: mean(present(compared.map((s) => s.control_change[m]))),
      mean_did: mean(present(compared.map((s) => s.did[m]))),
    };
  };
  return {
    match: input.match,
    days: input.days,
    shift_days: impactWindow(0, input.days).shiftMs / DAY,
    stores,
    control_stores: controlStores.size,
    summary: { traffic: summaryOf('traffic'), conversion: summaryOf('conversion'), sales_per_visitor: summaryOf('sales_per_visitor') },
  };
}

/** The windows the totals are needed for: one per distinct hour of a store's first matching annotation. */
export function windowsToFetch(annotations: readonly MatchedAnnotation[], days: number): ImpactWindow[] {
  const first = new Map<string, number>();
  for (const a of annotations) first.set(a.storeId, Math.min(first.get(a.storeId) ?? Infinity, a.ts));
  const byStart = new Map<number, ImpactWindow>();
  for (const ts of first.values()) {
    const w = impactWindow(ts, days);
    byStart.set(w.afterFrom, w);
  }
  return [...byStart.values()].sort((a, b) => a.afterFrom - b.afterFrom);
}

export const IMPACT_CSV_COLUMNS = [
  'store_id',
  'annotation_time',
  'annotation_text',
  'annotation_subject',
  'hours',
  ...IMPACT_METRICS.flatMap((m) => [`${m}_before`, `${m}_after`, `${m}_change`, `${m}_control_change`, `${m}_did`]),
] as const;

export function impactCsvRows(report: FleetImpactReport): (string | number | null)[][] {
  return report.stores.map((s) => [
    s.store_id,
    s.annotation.time,
    s.annotation.text,
    s.annotation.subject,
    s.hours,
    ...IMPACT_METRICS.flatMap((m) => [s.values_before[m], s.values_after[m], s.change[m], s.control_change[m], s.did[m]]),
  ]);
}

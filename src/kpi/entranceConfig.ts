/**
 * From the config's spelling of KPI inputs to the engine's. Structural on purpose (no import of the
 * gateway's config schema): `kpi.entrances` may name a plan line as `{ plan_line: NAME }` once the
 * config schema accepts it, and this mapping already understands it.
 */
import type { EntranceRef } from './kpiEngine.js';
import type { PlanKpiSettings } from './planBin.js';

/** One `kpi.entrances` item as written in the config. */
export type EntranceConfig = { camera: string; line: string } | { sensor: string } | { plan_line: string };

export function entranceRefOf(e: EntranceConfig): EntranceRef {
  if ('plan_line' in e) return { planLine: e.plan_line };
  return e;
}

/**
 * The KPI settings of the floor plan (`plan` in the config), undefined for a store without one — or
 * with one that draws no line or zone (fusion settings only): its bins stay exactly as without a plan.
 */
export function planKpiSettingsOf(plan: { lines: readonly unknown[]; zones: readonly { name: string; queue?: boolean }[] } | undefined): PlanKpiSettings | undefined {
  if (!plan || plan.lines.length + plan.zones.length === 0) return undefined;
  return { queueZones: plan.zones.filter((z) => z.queue === true).map((z) => z.name) };
}

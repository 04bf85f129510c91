/**
 * storepulse's line and zone figures against the truth computed from annotated trajectories with
 * the same counters (same foot point, hysteresis, entry inertia and exit grace), so every
 * difference is the tracker's or the detector's, not a difference of definitions.
 */
import type { SceneSummary } from '../analytics/sceneAnalytics.js';

export interface Compared {
  truth: number;
  measured: number;
  /** (measured − truth) / truth; null when the truth is 0 (then see `measured`). */
  relativeError: number | null;
}

export interface LineComparison {
  name: string;
  in: Compared;
  out: Compared;
}

export interface ZoneComparison {
  name: string;
  visits: Compared;
  dwellS: Compared;
}

export interface CountComparison {
  lines: LineComparison[];
  zones: ZoneComparison[];
  /**
   * Σ|measured − truth| / Σ truth over every line and direction: one miscount costs the same
   * wherever it happens, and over- and under-counts on different lines do not cancel.
   */
  lineError: number | null;
  /** Σ|measured − truth| / Σ truth of the zones' total dwell. */
  dwellError: number | null;
  /** Σ|measured − truth| / Σ truth of the zones' visit counts. */
  visitError: number | null;
  /** Signed versions (Σ(measured − truth) / Σ truth): a bias shows here. */
  lineBias: number | null;
  dwellBias: number | null;
  visitBias: number | null;
}

export function compared(truth: number, measured: number): Compared {
  return { truth, measured, relativeError: truth > 0 ? (measured - truth) / truth : null };
}

function pooled(items: Compared[], absolute: boolean): number | null {
  const truth = items.reduce((n, c) => n + c.truth, 0);
  if (truth <= 0) return null;
  return items.reduce((n, c) => n + (absolute ? Math.abs(c.measured - c.truth) : c.measured - c.truth), 0) / truth;
}

export function compareCounts(truth: SceneSummary, measured: SceneSummary): CountComparison {
  const lines = Object.entries(truth.lines).map(([name, t]) => {
    const m = measured.lines[name] ?? { in: 0, out: 0 };
    return { name, in: compared(t.in, m.in), out: compared(t.out, m.out) };
  });
  const zones = Object.entries(truth.zones).map(([name, t]) => {
    const m = measured.zones[name] ?? { visits: 0, dwell_s_total: 0 };
    return { name, visits: compared(t.visits, m.visits), dwellS: compared(t.dwell_s_total, m.dwell_s_total) };
  });
  const directions = lines.flatMap((l) => [l.in, l.out]);
  return {
    lines,
    zones,
    lineError: pooled(directions, true),
    dwellError: pooled(zones.map((z) => z.dwellS), true),
    visitError: pooled(zones.map((z) => z.visits), true),
    lineBias: pooled(directions, false),
    dwellBias: pooled(zones.map((z) => z.dwellS), false),
    visitBias: pooled(zones.map((z) => z.visits), false),
  };
}

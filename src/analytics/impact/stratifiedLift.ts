/**
 * The before/after contrast behind every impact figure: a ratio of totals on day-sized units,
 * compared only between units at the same position in the week, with a confidence interval from
 * the day-to-day variation actually observed.
 *
 * Why this and not a plain Poisson rate ratio: real store traffic varies from day to day far more
 * than counting noise (weather, paydays, a bus of tourists), so an interval from Poisson noise alone
 * calls half of all ordinary months "significant". Here the variance comes from the residuals of
 * the days around their weekday's mean (delta method on the log of the totals, pooled over weekdays
 * and both sides), and the interval uses Student's t with the degrees of freedom that leaves: about
 * 40 for four weeks either side. It needs no random numbers, so it is reproducible and cheap enough
 * to run over hundreds of simulated stores in a test.
 *
 * A contrast is a product of component totals with exponents ±1: [+subject visits] is plain
 * traffic; [+subject visits, −control visits] is the subject's traffic relative to the control, so
 * its after/before ratio is the difference-in-differences (the ratio of ratios) that takes out a
 * trend the two share; [+dwell seconds, −visits] is mean dwell.
 */
import { studentTQuantile } from './quantiles.js';

export type Side = 'before' | 'after';

export interface ObservedUnit {
  side: Side;
  /** Position in the week counted from the change (0–6): a unit is compared with the same weekday only. */
  stratum: number;
  /** Component totals over the unit (what they are is up to the contrast). */
  values: readonly number[];
}

export interface ContrastTerm {
  component: number;
  exponent: 1 | -1;
  /** For messages: "visits in zone:promo". */
  label: string;
}

export interface LiftInterval {
  /** θ_after ÷ θ_before − 1 (0.15 = +15 %). */
  lift: number;
  low: number;
  high: number;
  confidence: number;
  /** θ on each side, weekday-balanced (each weekday weighs the same whatever days are missing). */
  before: number;
  after: number;
  logRatio: number;
  standardError: number;
  degreesOfFreedom: number;
  unitsBefore: number;
  unitsAfter: number;
  /** Weekday slots compared (7 with every weekday on both sides); a count's θ ÷ this is per day. */
  weekdays: number;
}

export type LiftResult = { ok: true; interval: LiftInterval } | { ok: false; reason: string };

interface Cell {
  side: Side;
  stratum: number;
  units: ObservedUnit[];
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sum over weekdays of each weekday's mean: a total that a missing day does not bias. */
function balancedTotal(cells: readonly Cell[], component: number): number {
  return cells.reduce((sum, c) => sum + mean(c.units.map((u) => u.values[component] ?? 0)), 0);
}

export function estimateLift(units: readonly ObservedUnit[], contrast: readonly ContrastTerm[], confidence = 0.95): LiftResult {
  if (contrast.length === 0) throw new Error('estimateLift: empty contrast');
  const cells = new Map<string, Cell>();
  for (const u of units) {
    const key = `${u.side}:${u.stratum}`;
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { side: u.side, stratum: u.stratum, units: [] }));
    cell.units.push(u);
  }
  // Only weekdays seen on both sides compare: a lone Saturday after the change has nothing to match.
  const matched = [...cells.values()].filter((c) => cells.has(`${c.side === 'before' ? 'after' : 'before'}:${c.stratum}`));
  const sideCells = { before: matched.filter((c) => c.side === 'before'), after: matched.filter((c) => c.side === 'after') };
  if (sideCells.before.length === 0) return { ok: false, reason: 'no weekday has data both before and after the change' };

  const logTheta = { before: 0, after: 0 };
  const totals = { before: [] as number[], after: [] as number[] };
  for (const side of ['before', 'after'] as const) {
    for (const term of contrast) {
      const total = balancedTotal(sideCells[side], term.component);
      if (!(total > 0)) return { ok: false, reason: `no ${term.label} ${side} the change` };
      totals[side][term.component] = total;
      logTheta[side] += term.exponent * Math.log(total);
    }
  }

  // Each unit's linearised contribution to log θ of its side; its spread around the weekday's
  // mean is the day-to-day noise, counting noise included.
  let squares = 0;
  let used = 0;
  let variance = 0;
  for (const cell of matched) {
    const z = cell.units.map((u) => contrast.reduce((s, t) => s + (t.exponent * (u.values[t.component] ?? 0)) / totals[cell.side][t.component]!, 0));
    const m = mean(z);
    for (const v of z) squares += (v - m) ** 2;
    used += z.length;
  }
  const degreesOfFreedom = used - matched.length;
  if (degreesOfFreedom < 2) return { ok: false, reason: `too few days to measure day-to-day variation (${used} days on ${matched.length} weekday slots)` };
  const pooled = squares / degreesOfFreedom;
  for (const cell of matched) variance += pooled / cell.units.length;

  const logRatio = logTheta.after - logTheta.before;
  const standardError = Math.sqrt(variance);
  const t = studentTQuantile(0.5 + confidence / 2, degreesOfFreedom);
  return {
    ok: true,
    interval: {
      lift: Math.expm1(logRatio),
      low: Math.expm1(logRatio - t * standardError),
      high: Math.expm1(logRatio + t * standardError),
      confidence,
      before: Math.exp(logTheta.before),
      after: Math.exp(logTheta.after),
      logRatio,
      standardError,
      degreesOfFreedom,
      unitsBefore: sideCells.before.reduce((n, c) => n + c.units.length, 0),
      unitsAfter: sideCells.after.reduce((n, c) => n + c.units.length, 0),
      weekdays: sideCells.before.length,
    },
  };
}

export type Verdict = 'increase' | 'decrease' | 'no significant change';

/** Below this a "change" is floating-point rounding (identical days give a zero-width interval at ±1e-16). */
const NO_CHANGE = 1e-9;

/** The honest reading of an interval: a change only when it excludes zero lift. */
export function verdictOf(interval: Pick<LiftInterval, 'low' | 'high'>): Verdict {
  if (interval.low > NO_CHANGE) return 'increase';
  if (interval.high < -NO_CHANGE) return 'decrease';
  return 'no significant change';
}

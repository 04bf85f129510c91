/**
 * The impact analysis against a known truth: 200 seeded synthetic stores (weekly and daily
 * seasonality, a +2 %/week trend the subject shares with a control zone, shared and own day-to-day
 * swings, Poisson counts), four weeks either side of the change. With +15 % injected into the
 * subject's traffic, the interval relative to the control must show an increase and cover +15 % in
 * at least 90 % of stores; with nothing injected it must say "no significant change" in at least
 * 90 %. The rates are printed so a regression shows how far it moved.
 */
import { describe, expect, it } from 'vitest';
import { analyzeImpact, type ImpactReport } from '../../src/analytics/impact/impactAnalysis.js';
import { parseSubject } from '../../src/analytics/impact/impactSubjects.js';
import { CONTROL_ZONE, SUBJECT_ZONE, syntheticStoreBins, type SyntheticStoreOptions } from '../../src/analytics/impact/syntheticStore.js';

const SIMULATIONS = 200;
const CHANGE = Date.UTC(2026, 2, 14);
const WEEKS = 4;

function simulate(options: Omit<SyntheticStoreOptions, 'seed' | 'change' | 'weeks'>, withControl: boolean): ImpactReport[] {
  return Array.from({ length: SIMULATIONS }, (_, i) =>
    analyzeImpact(syntheticStoreBins({ ...options, seed: 1000 + i, change: CHANGE, weeks: WEEKS }), {
      subject: parseSubject(`zone:${SUBJECT_ZONE}`),
      controls: withControl ? [parseSubject(`zone:${CONTROL_ZONE}`)] : [],
      change: CHANGE,
      weeks: WEEKS,
      timeZone: 'UTC',
      now: CHANGE + 60 * 86_400_000,
    }),
  );
}

const metric = (r: ImpactReport, name: string) => r.metrics.find((m) => m.metric === name)!;
const share = (reports: ImpactReport[], ok: (r: ImpactReport) => boolean): number => reports.filter(ok).length / reports.length;

describe('impact analysis on 200 seeded synthetic stores', () => {
  it('finds an injected +15 % traffic lift with the right sign, its interval covering it in ≥ 90 %', () => {
    const reports = simulate({ trafficLift: 0.15 }, true);
    const found = share(reports, (r) => {
      const s = metric(r, 'traffic').vs_control!;
      return s.low > 0 && s.low <= 0.15 && s.high >= 0.15;
    });
    console.log(`+15 % traffic lift: found and covered in ${(found * 100).toFixed(1)} % of ${SIMULATIONS} stores`);
    expect(found).toBeGreaterThanOrEqual(0.9);
    expect(reports.every((r) => r.before.days === 28 && r.after.days === 28)).toBe(true);
  });

  it('reports no significant change in ≥ 90 % of stores when nothing was injected', () => {
    const reports = simulate({ trafficLift: 0 }, true);
    const quiet = share(reports, (r) => metric(r, 'traffic').verdict === 'no significant change');
    console.log(`no lift: "no significant change" in ${(quiet * 100).toFixed(1)} % of ${SIMULATIONS} stores`);
    expect(quiet).toBeGreaterThanOrEqual(0.9);
    // Dwell and visit rate were not touched either.
    expect(share(reports, (r) => metric(r, 'dwell').verdict === 'no significant change')).toBeGreaterThanOrEqual(0.9);
    expect(share(reports, (r) => metric(r, 'visit_rate').verdict === 'no significant change')).toBeGreaterThanOrEqual(0.9);
  });

  it('needs the control: without it the shared trend alone reads as an increase far more often than the interval allows', () => {
    // The check that the simulation is hard enough for the control to matter.
    const reports = simulate({ trafficLift: 0 }, false);
    const falseAlarms = share(reports, (r) => metric(r, 'traffic').verdict === 'increase');
    console.log(`no lift, no control: "increase" in ${(falseAlarms * 100).toFixed(1)} % of ${SIMULATIONS} stores`);
    // The interval allows 2.5 % of false increases; the trend makes it many times that.
    expect(falseAlarms).toBeGreaterThan(0.25);
  });

  it('finds a +10 % dwell lift relative to the control, covering it in ≥ 90 %', () => {
    const reports = simulate({ trafficLift: 0, dwellLift: 0.1 }, true);
    const covered = share(reports, (r) => {
      const s = metric(r, 'dwell').vs_control!;
      return s.low <= 0.1 && s.high >= 0.1;
    });
    expect(covered).toBeGreaterThanOrEqual(0.9);
  });
});

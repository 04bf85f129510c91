/**
 * Before/after impact of a dated change (a display moved, a promotion started) on a zone or a line:
 * traffic, dwell, visit rate and the store's conversion, N weeks after against N weeks before on
 * matching weekdays and hours, each with a confidence interval, and — when control zones or lines
 * are given — relative to them (difference-in-differences), which takes out what moved the whole
 * store: a season, a trend, a heatwave. A metric whose interval covers zero lift reads "no
 * significant change". Pure: hourly KPI bins in, a report out.
 */
import type { KpiBin } from '../../kpi/kpiEngine.js';
import { changeWindow, ImpactInputError, unitHours, type ChangeUnit } from './changeWindow.js';
import { knownSubjects, storeTotals, subjectsOverlap, subjectTotals, type SubjectRef } from './impactSubjects.js';
import { estimateLift, verdictOf, type ContrastTerm, type LiftResult, type ObservedUnit, type Side, type Verdict } from './stratifiedLift.js';

export class UnknownSubjectError extends ImpactInputError {}

export interface ImpactQuery {
  subject: SubjectRef;
  controls: readonly SubjectRef[];
  change: number;
  weeks: number;
  timeZone: string;
  /** A unit that has not ended by now is left out (the after period may still be running). */
  now: number;
  confidence?: number;
  /** Where the controls come from when not from the subject's bins (another store's file), for the report. */
  controlSource?: string;
}

export type ImpactMetricName = 'traffic' | 'dwell' | 'visit_rate' | 'conversion';

export interface LiftSummary {
  lift: number;
  low: number;
  high: number;
  degrees_of_freedom: number;
  verdict: Verdict;
}

export interface MetricImpact {
  metric: ImpactMetricName;
  definition: string;
  unit: string;
  /** The subject's level before and after, weekday-balanced. */
  before: number | null;
  after: number | null;
  /** The subject's own after ÷ before − 1. */
  change: LiftSummary | null;
  /** Relative to the controls (ratio of ratios − 1); null without controls or when they do not apply. */
  vs_control: LiftSummary | null;
  /** The figure to read: vs_control when there is one, else change. */
  verdict: Verdict | 'insufficient data';
  note?: string;
}

export interface ExcludedDay {
  date: string;
  side: Side;
  reason: string;
}

export interface ImpactReport {
  subject: string;
  controls: string[];
  /** Set when the controls are another store's (their hourly bins were passed separately). */
  control_source?: string;
  time_zone: string;
  change: number;
  weeks: number;
  confidence: number;
  before: { from: number; to: number; days: number };
  after: { from: number; to: number; days: number };
  excluded_days: ExcludedDay[];
  metrics: MetricImpact[];
}

/** Component indices of a unit's values. */
const SUBJECT_COUNT = 0;
const SUBJECT_DWELL = 1;
const CONTROL_COUNT = 2;
const CONTROL_DWELL = 3;
const STORE_IN = 4;
const TRANSACTIONS = 5;
const VISITORS = 6;

interface MetricPlan {
  metric: ImpactMetricName;
  definition: string;
  unit: string;
  subject: ContrastTerm[];
  control?: ContrastTerm[];
  /** θ → the level shown (counts: per day). */
  perDay: boolean;
  controlNote?: string;
}

function plans(query: ImpactQuery): MetricPlan[] {
  const s = query.subject.text;
  const c = query.controls.map((r) => r.text).join(' + ');
  const hasControls = query.controls.length > 0;
  const kind = query.subject.kind;
  const countLabel = kind === 'zone' ? `visits to ${s}` : kind === 'line' ? `crossings of ${s}` : 'store traffic (entrances configured in kpi.entrances)';
  const controlCount: ContrastTerm = { component: CONTROL_COUNT, exponent: -1, label: `traffic at the control ${c}` };
  const out: MetricPlan[] = [
    {
      metric: 'traffic',
      definition: kind === 'zone' ? 'counted visits to the zone' : kind === 'line' ? 'crossings of the line in its "in" direction' : 'people entering the store',
      unit: kind === 'zone' ? 'visits per day' : kind === 'line' ? 'crossings per day' : 'visitors per day',
      subject: [{ component: SUBJECT_COUNT, exponent: 1, label: countLabel }],
      control: hasControls ? [{ component: SUBJECT_COUNT, exponent: 1, label: countLabel }, controlCount] : undefined,
      perDay: true,
    },
  ];
  if (query.subject.kind === 'zone') {
    const zoneControls = hasControls && query.controls.every((r) => r.kind === 'zone');
    const dwell: ContrastTerm[] = [
      { component: SUBJECT_DWELL, exponent: 1, label: `dwell in ${s}` },
      { component: SUBJECT_COUNT, exponent: -1, label: countLabel },
    ];
    out.push(
      {
        metric: 'dwell',
        definition: 'mean dwell of the counted visits',
        unit: 'seconds',
        subject: dwell,
        control: zoneControls
          ? [...dwell, { component: CONTROL_DWELL, exponent: -1, label: `dwell in the control ${c}` }, { component: CONTROL_COUNT, exponent: 1, label: `visits to the control ${c}` }]
          : undefined,
        perDay: false,
        controlNote: hasControls && !zoneControls ? 'dwell is compared without control: not every control is a zone' : undefined,
      },
      {
        metric: 'visit_rate',
        definition: "visits to the zone ÷ the store's entering traffic",
        unit: 'ratio',
        subject: [
          { component: SUBJECT_COUNT, exponent: 1, label: countLabel },
          { component: STORE_IN, exponent: -1, label: 'store traffic (entrances configured in kpi.entrances)' },
        ],
        perDay: false,
        controlNote: hasControls ? 'the visit rate is already relative to the whole store; no control applied' : undefined,
      },
    );
  }
  out.push({
    metric: 'conversion',
    definition: "the store's transactions ÷ visitors (store-wide, not only this subject's)",
    unit: 'ratio',
    subject: [
      { component: TRANSACTIONS, exponent: 1, label: 'POS transactions' },
      { component: VISITORS, exponent: -1, label: 'store visitors (entrances configured in kpi.entrances)' },
    ],
    perDay: false,
    controlNote: hasControls ? 'conversion is store-wide; no control applied' : undefined,
  });
  return out;
}

function summary(result: LiftResult): LiftSummary | null {
  if (!result.ok) return null;
  const i = result.interval;
  return { lift: i.lift, low: i.low, high: i.high, degrees_of_freedom: i.degreesOfFreedom, verdict: verdictOf(i) };
}

/**
 * Sums each hourly bin into the unit it starts in; returns the units with every hour present (in
 * the control's bins too when they come from elsewhere).
 */
function observeUnits(
  bins: readonly KpiBin[],
  units: readonly ChangeUnit[],
  query: ImpactQuery,
  controlBins: readonly KpiBin[] | undefined,
): { observed: ObservedUnit[]; excluded: ExcludedDay[] } {
  const values = units.map(() => new Array<number>(7).fill(0));
  const hours = units.map(() => 0);
  const controlHours = units.map(() => 0);
  const addControls = (bin: KpiBin, v: number[]): void => {
    for (const control of query.controls) {
      const t = subjectTotals(bin, control);
      v[CONTROL_COUNT]! += t.count;
      v[CONTROL_DWELL]! += t.dwellSeconds;
    }
  };
  for (const bin of bins) {
    const i = unitIndexOf(units, bin.from);
    if (i < 0) continue;
    const v = values[i]!;
    const subject = subjectTotals(bin, query.subject);
    v[SUBJECT_COUNT]! += subject.count;
    v[SUBJECT_DWELL]! += subject.dwellSeconds;
    if (!controlBins) addControls(bin, v);
    const store = storeTotals(bin);
    v[STORE_IN]! += store.trafficIn;
    v[TRANSACTIONS]! += store.transactions;
    v[VISITORS]! += store.visitors;
    hours[i]! += 1;
  }
  for (const bin of controlBins ?? []) {
    const i = unitIndexOf(units, bin.from);
    if (i < 0) continue;
    addControls(bin, values[i]!);
    controlHours[i]! += 1;
  }
  const observed: ObservedUnit[] = [];
  const excluded: ExcludedDay[] = [];
  units.forEach((unit, i) => {
    const expected = unitHours(unit);
    const have = hours[i]!;
    let reason: string | undefined;
    if (unit.end > query.now) reason = 'not over yet';
    else if (have === 0) reason = 'no data';
    // A day with hours missing (gateway off, disk full) would read as a quiet day: leave it out.
    else if (have < expected) reason = `incomplete: ${have} of ${expected} hours`;
    else if (controlBins && controlHours[i]! < expected) reason = `control incomplete: ${controlHours[i]} of ${expected} hours`;
    if (reason) excluded.push({ date: unit.date, side: unit.side, reason });
    else observed.push({ side: unit.side, stratum: unit.stratum, values: values[i]! });
  });
  return { observed, excluded };
}

function unitIndexOf(units: readonly ChangeUnit[], ts: number): number {
  let lo = 0;
  let hi = units.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const u = units[mid]!;
    if (ts < u.start) hi = mid - 1;
    else if (ts >= u.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** `controlBins`: the controls' hourly bins when they are another store's; else they are read from `bins`. */
export function analyzeImpact(bins: readonly KpiBin[], query: ImpactQuery, controlBins?: readonly KpiBin[]): ImpactReport {
  const confidence = query.confidence ?? 0.95;
  const window = changeWindow(query.change, query.weeks, query.timeZone);
  for (const control of query.controls) {
    // zone:promo and zone:cam1/promo count the same visits: such a "control" would cancel the change.
    if (!controlBins && subjectsOverlap(control, query.subject)) throw new ImpactInputError(`the control ${control.text} is the subject itself`);
  }
  const within = (list: readonly KpiBin[]): KpiBin[] => list.filter((b) => b.from >= window.from && b.from < window.to);
  const inWindow = within(bins);
  const controlsInWindow = controlBins ? within(controlBins) : undefined;
  for (const ref of [query.subject, ...query.controls]) {
    const source = ref === query.subject || !controlsInWindow ? inWindow : controlsInWindow;
    if (source.some((b) => subjectTotals(b, ref).seen)) continue;
    const known = knownSubjects(source);
    throw new UnknownSubjectError(
      known.length
        ? `no ${ref.kind} ${ref.camera ? `${ref.camera}/` : ''}${ref.name} in the data of the period; known: ${known.join(', ')}`
        : `no stored data in the period compared${source === controlsInWindow ? ' at the control' : ''}`,
    );
  }
  const { observed, excluded } = observeUnits(inWindow, window.units, query, controlsInWindow);
  const metrics: MetricImpact[] = [];
  for (const plan of plans(query)) {
    const own = estimateLift(observed, plan.subject, confidence);
    const controlled = plan.control ? estimateLift(observed, plan.control, confidence) : undefined;
    const headline = controlled ?? own;
    const level = (side: 'before' | 'after'): number | null => (own.ok ? own.interval[side] / (plan.perDay ? own.interval.weekdays : 1) : null);
    const notes = [plan.controlNote, headline.ok ? undefined : headline.reason].filter((n): n is string => n !== undefined);
    const metric: MetricImpact = {
      metric: plan.metric,
      definition: plan.definition,
      unit: plan.unit,
      before: level('before'),
      after: level('after'),
      change: summary(own),
      vs_control: controlled ? summary(controlled) : null,
      verdict: headline.ok ? verdictOf(headline.interval) : 'insufficient data',
    };
    if (notes.length) metric.note = notes.join('; ');
    metrics.push(metric);
  }
  const days = (side: Side): number => observed.filter((u) => u.side === side).length;
  return {
    subject: query.subject.text,
    controls: query.controls.map((c) => c.text),
    ...(query.controlSource === undefined ? {} : { control_source: query.controlSource }),
    time_zone: query.timeZone,
    change: window.change,
    weeks: query.weeks,
    confidence,
    before: { from: window.from, to: window.change, days: days('before') },
    after: { from: window.change, to: window.to, days: days('after') },
    excluded_days: excluded,
    metrics,
  };
}

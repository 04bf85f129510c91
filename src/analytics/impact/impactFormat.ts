/**
 * An impact report for people: the lines the CLI prints, and one CSV row per metric. Pure.
 */
import { formatLocal } from '../../kpi/timeBins.js';
import type { ImpactReport, LiftSummary, MetricImpact } from './impactAnalysis.js';

const percent = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %`;

function level(m: MetricImpact, value: number | null): string {
  if (value === null) return 'n/a';
  if (m.unit === 'ratio') return `${(value * 100).toFixed(1)} %`;
  if (m.unit === 'seconds') return `${value.toFixed(1)} s`;
  return `${value.toFixed(1)} ${m.unit}`;
}

/** "+15.2 % (95 % CI +9.8 % to +20.9 %)". */
export function describeLift(s: LiftSummary, confidence: number): string {
  return `${percent(s.lift)} (${Math.round(confidence * 100)} % CI ${percent(s.low)} to ${percent(s.high)})`;
}

export function impactLines(report: ImpactReport): string[] {
  const tz = report.time_zone;
  const day = (ts: number): string => formatLocal(ts, tz).slice(0, 16).replace('T', ' ');
  const lines = [
    `impact on ${report.subject} of the change at ${day(report.change)} (${tz})`,
    `before: ${day(report.before.from)} to ${day(report.before.to)}, ${report.before.days} days with data; after: ${day(report.after.from)} to ${day(report.after.to)}, ${report.after.days} days with data`,
  ];
  if (report.controls.length) lines.push(`controls: ${report.controls.join(', ')}${report.control_source ? ` of ${report.control_source}` : ''} (difference-in-differences)`);
  if (report.excluded_days.length) {
    const shown = report.excluded_days.slice(0, 6).map((d) => `${d.date} ${d.reason}`);
    const more = report.excluded_days.length - shown.length;
    lines.push(`days left out: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`);
  }
  lines.push('');
  for (const m of report.metrics) {
    lines.push(`${m.metric}: ${m.verdict.toUpperCase()} — ${m.definition}`);
    lines.push(`  before ${level(m, m.before)}, after ${level(m, m.after)}`);
    if (m.change) lines.push(`  change: ${describeLift(m.change, report.confidence)}`);
    if (m.vs_control) lines.push(`  vs control: ${describeLift(m.vs_control, report.confidence)}`);
    if (m.note) lines.push(`  note: ${m.note}`);
  }
  return lines;
}

export const IMPACT_CSV_COLUMNS = [
  'subject',
  'controls',
  'change',
  'weeks',
  'metric',
  'unit',
  'before',
  'after',
  'change_lift',
  'change_low',
  'change_high',
  'vs_control_lift',
  'vs_control_low',
  'vs_control_high',
  'verdict',
  'days_before',
  'days_after',
] as const;

export function impactCsvRows(report: ImpactReport): (string | number | null)[][] {
  const round = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : Math.round(x * 10_000) / 10_000);
  return report.metrics.map((m) => [
    report.subject,
    report.controls.join(' '),
    formatLocal(report.change, report.time_zone),
    report.weeks,
    m.metric,
    m.unit,
    round(m.before),
    round(m.after),
    round(m.change?.lift),
    round(m.change?.low),
    round(m.change?.high),
    round(m.vs_control?.lift),
    round(m.vs_control?.low),
    round(m.vs_control?.high),
    m.verdict,
    report.before.days,
    report.after.days,
  ]);
}

/** The report as the API and `impact --json` give it: times in the store's local ISO 8601, with the notes of the period. */
export function impactReportJson(report: ImpactReport, notes: readonly { ts: number; text: string; subject: string | null }[]) {
  const tz = report.time_zone;
  return {
    ...report,
    change: formatLocal(report.change, tz),
    before: { ...report.before, from: formatLocal(report.before.from, tz), to: formatLocal(report.before.to, tz) },
    after: { ...report.after, from: formatLocal(report.after.from, tz), to: formatLocal(report.after.to, tz) },
    annotations: notes.map((a) => ({ time: formatLocal(a.ts, tz), text: a.text, subject: a.subject })),
  };
}

/**
 * The fleet dashboard's "Changes" section: the annotations the gateways recorded in the period, and
 * the before/after comparison (GET /api/v1/fleet/impact) of the stores whose annotations match what
 * the user asks for. Builds DOM only; main.ts loads the data.
 */
import { fmt, h, pct } from '../dom.js';
import { changeText } from './format.js';

/** What /api/v1/fleet/annotations returns: the server's own type, so the two cannot drift apart. */
export type { FleetAnnotation } from '../../../src/central/fleetImpact.js';
import type { FleetAnnotation } from '../../../src/central/fleetImpact.js';

type Metric = 'traffic' | 'conversion' | 'sales_per_visitor';
type Values = Record<Metric, number | null>;

interface StoreImpact {
  store_id: string;
  annotation: { time: string; text: string };
  hours: number;
  values_before: Values;
  values_after: Values;
  change: Values;
  control_change: Values;
  did: Values;
}

interface Summary {
  stores: number;
  mean_change: number | null;
  median_change: number | null;
  up: number;
  down: number;
  mean_control_change: number | null;
  mean_did: number | null;
}

export interface ImpactReport {
  match: string;
  days: number;
  shift_days: number;
  control_stores: number;
  stores: StoreImpact[];
  summary: Record<Metric, Summary>;
}

const METRICS: { key: Metric; label: string; value: (v: number | null) => string }[] = [
  { key: 'traffic', label: 'Traffic', value: (v) => fmt(v) },
  { key: 'conversion', label: 'Conversion', value: (v) => pct(v) },
  { key: 'sales_per_visitor', label: 'Sales / visitor', value: (v) => fmt(v, 2) },
];

const when = (iso: string): string => iso.slice(0, 16).replace('T', ' ');

/** The period's annotations; clicking one's text asks for its before/after. */
export function annotationList(annotations: FleetAnnotation[], compare: (match: string) => void): HTMLElement {
  if (annotations.length === 0) return h('p', { class: 'muted', 'data-testid': 'no-annotations' }, 'No annotations from the gateways in this period.');
  return h(
    'table',
    { 'data-testid': 'annotations' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Time (UTC)'), h('th', {}, 'Store'), h('th', {}, 'Annotation'), h('th', {}, 'Subject'), h('th', {}, ''))),
    h(
      'tbody',
      {},
      annotations.map((a) =>
        h(
          'tr',
          { 'data-store': a.store_id },
          h('td', {}, when(a.time)),
          h('td', {}, a.store_id),
          h('td', {}, a.text),
          h('td', {}, a.subject ?? ''),
          h('td', {}, h('button', { type: 'button', onclick: () => compare(a.text) }, 'Before/after')),
        ),
      ),
    ),
  );
}

/** The per-store table and the fleet summary of one comparison. */
export function impactTable(report: ImpactReport): HTMLElement {
  if (report.stores.length === 0) return h('p', { class: 'muted', 'data-testid': 'no-impact' }, `No annotation matches "${report.match}".`);
  const s = report.summary;
  return h(
    'div',
    {},
    h(
      'p',
      { class: 'muted', 'data-testid': 'impact-summary' },
      `${report.stores.length} ${report.stores.length === 1 ? 'store' : 'stores'} with "${report.match}", ${report.days} days after each change against the same weekdays and hours ${report.shift_days} days earlier. ` +
        `Traffic: mean ${changeText(s.traffic.mean_change)}, median ${changeText(s.traffic.median_change)}, ${s.traffic.up} up, ${s.traffic.down} down; ` +
        `${report.control_stores} stores without the change: ${changeText(s.traffic.mean_control_change)}; difference in differences ${changeText(s.traffic.mean_did)}.`,
    ),
    h(
      'table',
      { 'data-testid': 'impact' },
      h(
        'thead',
        {},
        h('tr', {}, h('th', {}, 'Store'), h('th', {}, 'Change at (UTC)'), h('th', {}, 'Hours'), ...METRICS.flatMap((m) => [h('th', {}, `${m.label} before → after`), h('th', {}, 'change'), h('th', {}, 'vs controls')]))
      ),
      h(
        'tbody',
        {},
        report.stores.map((r) =>
          h(
            'tr',
            { 'data-store': r.store_id },
            h('td', {}, r.store_id),
            h('td', { title: r.annotation.text }, when(r.annotation.time)),
            h('td', {}, r.hours),
            ...METRICS.flatMap((m) => [
              h('td', {}, `${m.value(r.values_before[m.key])} → ${m.value(r.values_after[m.key])}`),
              h('td', { class: `change ${m.key}` }, changeText(r.change[m.key])),
              h('td', { class: `did ${m.key}` }, changeText(r.did[m.key])),
            ]),
          ),
        ),
      ),
    ),
  );
}

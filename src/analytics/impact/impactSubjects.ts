/**
 * What an impact analysis is about: a zone or a line, named as in the KPI bins, or the whole store.
 * `zone:promo` is every zone named promo (summed over the cameras that see it), `zone:cam2/promo`
 * one camera's; `store` is the store's entering traffic (a control for a zone, or a subject itself).
 * Pure: reads numbers out of hourly KPI bins.
 */
import type { KpiBin } from '../../kpi/kpiEngine.js';
import { ImpactInputError } from './changeWindow.js';

export type SubjectKind = 'zone' | 'line' | 'store';

export interface SubjectRef {
  kind: SubjectKind;
  name: string;
  camera?: string;
  /** As the user wrote it: "zone:promo". */
  text: string;
}

/** Per hour (or summed over a unit): what the metrics are made of. */
export interface SubjectTotals {
  /** Zone: counted visits; line: crossings in its "in" direction; store: people entering. */
  count: number;
  /** Zone: seconds spent by the counted visits (visits × mean dwell). */
  dwellSeconds: number;
}

export interface StoreTotals {
  /** People entering the store (the configured entrances). */
  trafficIn: number;
  transactions: number;
  /** The conversion's denominator: shoppers (staff excluded when badges are configured), else traffic in. */
  visitors: number;
}

const NAME = /^[A-Za-z0-9_.:-]+$/;

export function parseSubject(text: string): SubjectRef {
  if (text.trim() === 'store') return { kind: 'store', name: 'store', text: 'store' };
  const m = /^(zone|line):(?:([^/]+)\/)?([^/]+)$/.exec(text.trim());
  if (!m || !NAME.test(m[3]!) || (m[2] !== undefined && !NAME.test(m[2]))) {
    throw new ImpactInputError(`a subject is zone:NAME, line:NAME (zone:CAMERA/NAME for one camera's) or store, got "${text}"`);
  }
  const ref: SubjectRef = { kind: m[1] as SubjectKind, name: m[3]!, text: text.trim() };
  if (m[2] !== undefined) ref.camera = m[2];
  return ref;
}

/** Comma-separated subjects (the `control` parameter); empty parts are ignored. */
export function parseSubjects(text: string | undefined): SubjectRef[] {
  if (!text) return [];
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseSubject);
}

/** Does a KPI key ("camera/name") belong to the subject? */
export function subjectMatches(ref: SubjectRef, key: string): boolean {
  const slash = key.indexOf('/');
  const camera = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  return name === ref.name && (ref.camera === undefined || ref.camera === camera);
}

/** Do two subjects count some of the same zone or line? */
export function subjectsOverlap(a: SubjectRef, b: SubjectRef): boolean {
  return a.kind === b.kind && a.name === b.name && (a.camera === undefined || b.camera === undefined || a.camera === b.camera);
}

/** The subject's totals in one bin; `seen` is false when the bin has no such zone or line at all. */
export function subjectTotals(bin: KpiBin, ref: SubjectRef): SubjectTotals & { seen: boolean } {
  let count = 0;
  let dwellSeconds = 0;
  let seen = false;
  if (ref.kind === 'store') return { count: bin.traffic.in, dwellSeconds: 0, seen: true };
  if (ref.kind === 'zone') {
    for (const [key, zone] of Object.entries(bin.zones)) {
      if (!subjectMatches(ref, key)) continue;
      seen = true;
      count += zone.visits;
      dwellSeconds += zone.visits * (zone.dwell_mean_s ?? 0);
    }
  } else {
    for (const [key, line] of Object.entries(bin.lines)) {
      if (!subjectMatches(ref, key)) continue;
      seen = true;
      count += line.in;
    }
  }
  return { count, dwellSeconds, seen };
}

export function storeTotals(bin: KpiBin): StoreTotals {
  return { trafficIn: bin.traffic.in, transactions: bin.transactions, visitors: bin.staff ? bin.staff.shopper_in : bin.traffic.in };
}

/** Zone and line names present in the bins, for an "unknown subject" message. */
export function knownSubjects(bins: readonly KpiBin[]): string[] {
  const names = new Set<string>();
  for (const bin of bins) {
    for (const key of Object.keys(bin.zones)) names.add(`zone:${key.slice(key.indexOf('/') + 1)}`);
    for (const key of Object.keys(bin.lines)) names.add(`line:${key.slice(key.indexOf('/') + 1)}`);
  }
  return [...names].sort();
}

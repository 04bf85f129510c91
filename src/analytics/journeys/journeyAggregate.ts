/**
 * Journeys folded into counts that identify nobody: a zone-to-zone transition matrix with entry and
 * exit pseudo-states, path counts, funnel depth per person and per buying unit, visits and dwell per
 * zone. The raw counts add up across bins (`mergeCounts`), so a 1-minute store can answer any bin
 * size; the minimum path count is applied only when a report is made, on the merged counts.
 */
import type { ZoneVisit } from './journeyTracker.js';

export const ENTRY_STATE = 'entry';
export const EXIT_STATE = 'exit';
/** Paths are cut after this many zones (a longer path is its first four plus "continues"). */
export const MAX_PATH_ZONES = 4;
const PATH_SEPARATOR = ' > ';
const CONTINUES = '…';

export interface JourneyCounts {
  journeys: number;
  /** from → to → count, over the collapsed zone sequences with entry/exit added. */
  transitions: Record<string, Record<string, number>>;
  /** Path key (zones joined by " > ", "…" appended when it went on) → journeys. "" = no zone visited. */
  paths: Record<string, number>;
  /** Persons reaching funnel step i (in order). */
  funnelPersons: number[];
  units: number;
  /** Unit size → units. */
  unitSizes: Record<string, number>;
  funnelUnits: number[];
  /** Zone → visits and summed dwell. */
  zones: Record<string, { visits: number; dwellMs: number }>;
}

export function emptyCounts(funnelSteps: number): JourneyCounts {
  return { journeys: 0, transitions: {}, paths: {}, funnelPersons: new Array<number>(funnelSteps).fill(0), units: 0, unitSizes: {}, funnelUnits: new Array<number>(funnelSteps).fill(0), zones: {} };
}

/** Visits in order with back-to-back repeats of one zone merged (left and came back without going elsewhere). */
export function zoneSequence(visits: readonly ZoneVisit[]): string[] {
  const sequence: string[] = [];
  for (const v of visits) if (sequence[sequence.length - 1] !== v.zone) sequence.push(v.zone);
  return sequence;
}

/** How many funnel steps the sequence reaches in order (other zones in between are allowed). */
export function funnelDepth(sequence: readonly string[], funnel: readonly string[]): number {
  let depth = 0;
  for (const zone of sequence) if (depth < funnel.length && zone === funnel[depth]) depth += 1;
  return depth;
}

export function pathKey(sequence: readonly string[]): string {
  const head = sequence.slice(0, MAX_PATH_ZONES).join(PATH_SEPARATOR);
  return sequence.length > MAX_PATH_ZONES ? `${head}${PATH_SEPARATOR}${CONTINUES}` : head;
}

export function parsePathKey(key: string): { zones: string[]; continues: boolean } {
  const parts = key === '' ? [] : key.split(PATH_SEPARATOR);
  const continues = parts[parts.length - 1] === CONTINUES;
  return { zones: continues ? parts.slice(0, -1) : parts, continues };
}

const bump = (record: Record<string, number>, key: string, by = 1): void => {
  record[key] = (record[key] ?? 0) + by;
};

export function addJourney(counts: JourneyCounts, visits: readonly ZoneVisit[], funnel: readonly string[]): void {
  const sequence = zoneSequence(visits);
  counts.journeys += 1;
  const states = [ENTRY_STATE, ...sequence, EXIT_STATE];
  for (let i = 1; i < states.length; i++) bump((counts.transitions[states[i - 1]!] ??= {}), states[i]!);
  bump(counts.paths, pathKey(sequence));
  const depth = funnelDepth(sequence, funnel);
  for (let i = 0; i < depth; i++) counts.funnelPersons[i]! += 1;
  for (const v of visits) {
    const zone = (counts.zones[v.zone] ??= { visits: 0, dwellMs: 0 });
    zone.visits += 1;
    zone.dwellMs += v.dwellMs;
  }
}

/** A buying unit counts once, as deep into the funnel as its furthest member went. */
export function addUnit(counts: JourneyCounts, size: number, funnelDepthReached: number): void {
  counts.units += 1;
  bump(counts.unitSizes, String(size));
  for (let i = 0; i < funnelDepthReached; i++) counts.funnelUnits[i]! += 1;
}

export function mergeCounts(into: JourneyCounts, add: JourneyCounts): void {
  into.journeys += add.journeys;
  for (const [from, row] of Object.entries(add.transitions)) for (const [to, n] of Object.entries(row)) bump((into.transitions[from] ??= {}), to, n);
  for (const [key, n] of Object.entries(add.paths)) bump(into.paths, key, n);
  add.funnelPersons.forEach((n, i) => (into.funnelPersons[i] = (into.funnelPersons[i] ?? 0) + n));
  add.funnelUnits.forEach((n, i) => (into.funnelUnits[i] = (into.funnelUnits[i] ?? 0) + n));
  into.units += add.units;
  for (const [size, n] of Object.entries(add.unitSizes)) bump(into.unitSizes, size, n);
  for (const [zone, z] of Object.entries(add.zones)) {
    const target = (into.zones[zone] ??= { visits: 0, dwellMs: 0 });
    target.visits += z.visits;
    target.dwellMs += z.dwellMs;
  }
}

export interface FunnelStep {
  zone: string;
  persons: number;
  /** Share of the previous step's persons (of all journeys for the first step); null when that is 0. */
  person_conversion: number | null;
  units: number;
  unit_conversion: number | null;
}

/** What leaves the aggregation: counts only, paths below the minimum folded into "other". */
export interface JourneyReport {
  journeys: number;
  /** Rows and columns: entry, the zones in config order, exit. */
  states: string[];
  transitions: { from: string; to: string; count: number }[];
  top_paths: { zones: string[]; continues: boolean; count: number }[];
  /** Paths seen fewer than `min_path_count` times: only their totals. */
  other_paths: { paths: number; journeys: number };
  min_path_count: number;
  funnel: FunnelStep[];
  buying_units: { units: number; persons: number; mean_size: number | null; sizes: { size: number; units: number }[] };
  /** Persons reaching the last funnel step over persons reaching the first, and the same per unit. */
  conversion: { persons: number | null; units: number | null };
  zones: { zone: string; visits: number; dwell_s_mean: number | null }[];
}

const ratio = (n: number, d: number): number | null => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null);

export function journeyReport(counts: JourneyCounts, options: { zones: readonly string[]; funnel: readonly string[]; minPathCount: number }): JourneyReport {
  // A zone removed from the config since still shows (after the configured ones) rather than vanishing.
  const configured = new Set(options.zones);
  const extras = Object.keys(counts.zones).filter((z) => !configured.has(z)).sort();
  const states = [ENTRY_STATE, ...options.zones, ...extras, EXIT_STATE];
  const order = new Map(states.map((s, i) => [s, i]));
  const rank = (s: string): number => order.get(s) ?? states.length;
  const transitions = Object.entries(counts.transitions)
    .flatMap(([from, row]) => Object.entries(row).map(([to, count]) => ({ from, to, count })))
    .sort((a, b) => rank(a.from) - rank(b.from) || rank(a.to) - rank(b.to));
  const top_paths: JourneyReport['top_paths'] = [];
  const other_paths = { paths: 0, journeys: 0 };
  for (const [key, count] of Object.entries(counts.paths)) {
    if (count >= options.minPathCount) top_paths.push({ ...parsePathKey(key), count });
    else {
      other_paths.paths += 1;
      other_paths.journeys += count;
    }
  }
  top_paths.sort((a, b) => b.count - a.count || (a.zones.join() < b.zones.join() ? -1 : 1));
  const funnel = options.funnel.map((zone, i): FunnelStep => {
    const persons = counts.funnelPersons[i] ?? 0;
    const units = counts.funnelUnits[i] ?? 0;
    const previousPersons = i === 0 ? counts.journeys : (counts.funnelPersons[i - 1] ?? 0);
    const previousUnits = i === 0 ? counts.units : (counts.funnelUnits[i - 1] ?? 0);
    return { zone, persons, person_conversion: ratio(persons, previousPersons), units, unit_conversion: ratio(units, previousUnits) };
  });
  const sizes = Object.entries(counts.unitSizes)
    .map(([size, units]) => ({ size: Number(size), units }))
    .sort((a, b) => a.size - b.size);
  const personsInUnits = sizes.reduce((sum, s) => sum + s.size * s.units, 0);
  const last = options.funnel.length - 1;
  return {
    journeys: counts.journeys,
    states,
    transitions,
    top_paths,
    other_paths,
    min_path_count: options.minPathCount,
    funnel,
    buying_units: { units: counts.units, persons: personsInUnits, mean_size: ratio(personsInUnits, counts.units), sizes },
    conversion: last < 0 ? { persons: null, units: null } : { persons: ratio(counts.funnelPersons[last] ?? 0, counts.funnelPersons[0] ?? 0), units: ratio(counts.funnelUnits[last] ?? 0, counts.funnelUnits[0] ?? 0) },
    zones: Object.entries(counts.zones)
      .sort(([a], [b]) => rank(a) - rank(b))
      .map(([zone, z]) => ({ zone, visits: z.visits, dwell_s_mean: z.visits > 0 ? Math.round(z.dwellMs / z.visits) / 1000 : null })),
  };
}

export interface JourneyReportRow {
  section: 'journeys' | 'transition' | 'path' | 'funnel' | 'buying_units' | 'conversion' | 'zone';
  subject: string;
  metric: string;
  value: number | null;
}

/** A report as flat rows (CSV export): one row per section, subject and metric. */
export function journeyReportRows(report: JourneyReport): JourneyReportRow[] {
  const rows: JourneyReportRow[] = [{ section: 'journeys', subject: 'all', metric: 'journeys', value: report.journeys }];
  for (const t of report.transitions) rows.push({ section: 'transition', subject: `${t.from}${PATH_SEPARATOR}${t.to}`, metric: 'count', value: t.count });
  for (const p of report.top_paths) rows.push({ section: 'path', subject: p.zones.length ? pathKey(p.continues ? [...p.zones, CONTINUES] : p.zones) : '(no zone)', metric: 'journeys', value: p.count });
  rows.push({ section: 'path', subject: 'other', metric: 'journeys', value: report.other_paths.journeys }, { section: 'path', subject: 'other', metric: 'paths', value: report.other_paths.paths });
  for (const s of report.funnel) {
    rows.push(
      { section: 'funnel', subject: s.zone, metric: 'persons', value: s.persons },
      { section: 'funnel', subject: s.zone, metric: 'person_conversion', value: s.person_conversion },
      { section: 'funnel', subject: s.zone, metric: 'units', value: s.units },
      { section: 'funnel', subject: s.zone, metric: 'unit_conversion', value: s.unit_conversion },
    );
  }
  const units = report.buying_units;
  rows.push({ section: 'buying_units', subject: 'all', metric: 'units', value: units.units }, { section: 'buying_units', subject: 'all', metric: 'persons', value: units.persons }, { section: 'buying_units', subject: 'all', metric: 'mean_size', value: units.mean_size });
  for (const s of units.sizes) rows.push({ section: 'buying_units', subject: `size ${s.size}`, metric: 'units', value: s.units });
  rows.push({ section: 'conversion', subject: 'persons', metric: 'conversion', value: report.conversion.persons }, { section: 'conversion', subject: 'units', metric: 'conversion', value: report.conversion.units });
  for (const z of report.zones) rows.push({ section: 'zone', subject: z.zone, metric: 'visits', value: z.visits }, { section: 'zone', subject: z.zone, metric: 'dwell_s_mean', value: z.dwell_s_mean });
  return rows;
}

const isCountRecord = (v: unknown): boolean => typeof v === 'object' && v !== null && Object.values(v).every((n) => typeof n === 'number' && Number.isFinite(n));

/** Whether a value read back from storage has the shape of JourneyCounts (a damaged row must not poison the bins). */
export function isJourneyCounts(value: unknown): value is JourneyCounts {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  const numbers = (v: unknown): boolean => Array.isArray(v) && v.every((n) => typeof n === 'number' && Number.isFinite(n));
  return (
    typeof c.journeys === 'number' &&
    typeof c.units === 'number' &&
    numbers(c.funnelPersons) &&
    numbers(c.funnelUnits) &&
    isCountRecord(c.paths) &&
    isCountRecord(c.unitSizes) &&
    typeof c.transitions === 'object' && c.transitions !== null && Object.values(c.transitions).every(isCountRecord) &&
    typeof c.zones === 'object' && c.zones !== null && Object.values(c.zones).every(isCountRecord)
  );
}

/**
 * npm run bench:impact [-- --seeds 200] [--weeks 4] [--skip-storage] [--json]
 *
 * How often the impact analysis tells the truth on seeded synthetic stores (weekly and daily
 * seasonality, a +2 %/week trend shared with the control zone, shared and per-zone day-to-day
 * swings, Poisson counts; src/analytics/impact/syntheticStore.ts): for each scenario, the share of
 * stores whose 95 % interval covers the injected lift, shows an increase, or reads "no significant
 * change". Beside it, the same contrast with a plain Poisson rate-ratio interval (counting noise
 * only), to show why the analysis takes its variance from the days instead. Also the time one
 * analysis takes (8 weeks of hourly bins, pure computation), and reading those 8 weeks from a real
 * SQLite file of a busy store (4,500 events a day): from the stored hourly bins (what the API does)
 * and recomputed from the raw events (what the CLI does for days without stored bins).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { analyzeImpact, type ImpactQuery } from '../src/analytics/impact/impactAnalysis.js';
import { parseSubject } from '../src/analytics/impact/impactSubjects.js';
import { normalQuantile } from '../src/analytics/impact/quantiles.js';
import { CONTROL_ZONE, SUBJECT_ZONE, syntheticStoreBins, type SyntheticStoreOptions } from '../src/analytics/impact/syntheticStore.js';
import { seededRandom } from '../src/common/seededRandom.js';
import type { KpiBin, KpiSettings } from '../src/kpi/kpiEngine.js';
import { openDatabase } from '../src/store/database.js';
import { hourlyKpiHistory } from '../src/store/hourlyKpiHistory.js';

const { values } = parseArgs({
  options: { seeds: { type: 'string', default: '200' }, weeks: { type: 'string', default: '4' }, 'skip-storage': { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
});
const SEEDS = Number(values.seeds);
const WEEKS = Number(values.weeks);
const CHANGE = Date.UTC(2026, 2, 14);

interface Scenario {
  name: string;
  store: Omit<SyntheticStoreOptions, 'seed' | 'change' | 'weeks'>;
  metric: 'traffic' | 'dwell';
  control: boolean;
  truth: number;
}

const SCENARIOS: Scenario[] = [
  { name: '+15 % traffic, with control', store: { trafficLift: 0.15 }, metric: 'traffic', control: true, truth: 0.15 },
  { name: 'no lift, with control', store: { trafficLift: 0 }, metric: 'traffic', control: true, truth: 0 },
  { name: '+15 % traffic, no control', store: { trafficLift: 0.15 }, metric: 'traffic', control: false, truth: 0.15 },
  { name: 'no lift, no control', store: { trafficLift: 0 }, metric: 'traffic', control: false, truth: 0 },
  { name: 'no lift, no trend, no control', store: { trafficLift: 0, trendPerWeek: 0 }, metric: 'traffic', control: false, truth: 0 },
  { name: '+10 % dwell, with control', store: { trafficLift: 0, dwellLift: 0.1 }, metric: 'dwell', control: true, truth: 0.1 },
  { name: 'no dwell lift, with control', store: { trafficLift: 0 }, metric: 'dwell', control: true, truth: 0 },
];

/** The textbook interval that treats the visits as Poisson counts and nothing else. */
function poissonInterval(bins: readonly KpiBin[], control: boolean): { low: number; high: number } {
  const sums = { sb: 0, sa: 0, cb: 0, ca: 0 };
  const start = CHANGE - WEEKS * 7 * 86_400_000;
  const end = CHANGE + WEEKS * 7 * 86_400_000;
  for (const b of bins) {
    if (b.from < start || b.from >= end) continue;
    const after = b.from >= CHANGE;
    const s = Object.entries(b.zones).find(([k]) => k.endsWith(`/${SUBJECT_ZONE}`))?.[1].visits ?? 0;
    const c = Object.entries(b.zones).find(([k]) => k.endsWith(`/${CONTROL_ZONE}`))?.[1].visits ?? 0;
    if (after) {
      sums.sa += s;
      sums.ca += c;
    } else {
      sums.sb += s;
      sums.cb += c;
    }
  }
  let log = Math.log(sums.sa / sums.sb);
  let variance = 1 / sums.sa + 1 / sums.sb;
  if (control) {
    log -= Math.log(sums.ca / sums.cb);
    variance += 1 / sums.ca + 1 / sums.cb;
  }
  const z = normalQuantile(0.975) * Math.sqrt(variance);
  return { low: Math.expm1(log - z), high: Math.expm1(log + z) };
}

const rows = [];
let analysisMs = 0;
let analyses = 0;
for (const scenario of SCENARIOS) {
  let covered = 0;
  let increase = 0;
  let quiet = 0;
  let poissonCovered = 0;
  let poissonQuiet = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const bins = syntheticStoreBins({ ...scenario.store, seed, change: CHANGE, weeks: WEEKS });
    const query: ImpactQuery = {
      subject: parseSubject(`zone:${SUBJECT_ZONE}`),
      controls: scenario.control ? [parseSubject(`zone:${CONTROL_ZONE}`)] : [],
      change: CHANGE,
      weeks: WEEKS,
      timeZone: 'UTC',
      now: Infinity,
    };
    const started = performance.now();
    const report = analyzeImpact(bins, query);
    analysisMs += performance.now() - started;
    analyses += 1;
    const m = report.metrics.find((x) => x.metric === scenario.metric)!;
    const s = scenario.control ? m.vs_control! : m.change!;
    if (s.low <= scenario.truth && scenario.truth <= s.high) covered += 1;
    if (s.low > 0) increase += 1;
    if (m.verdict === 'no significant change') quiet += 1;
    if (scenario.metric === 'traffic') {
      const p = poissonInterval(bins, scenario.control);
      if (p.low <= scenario.truth && scenario.truth <= p.high) poissonCovered += 1;
      if (p.low <= 0 && p.high >= 0) poissonQuiet += 1;
    }
  }
  const pct = (n: number): string => `${((100 * n) / SEEDS).toFixed(1)} %`;
  rows.push({
    scenario: scenario.name,
    covers_truth: pct(covered),
    reads_increase: pct(increase),
    reads_no_change: pct(quiet),
    poisson_covers_truth: scenario.metric === 'traffic' ? pct(poissonCovered) : '—',
    poisson_no_change: scenario.metric === 'traffic' ? pct(poissonQuiet) : '—',
  });
}

/** Seconds to read `days` of hourly bins from a SQLite file: recomputed from raw events, then from stored bins. */
function storageTimes(days: number): { events: number; from_events_s: number; from_stored_bins_ms: number } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'storepulse-bench-impact-'));
  try {
    const db = openDatabase(path.join(dir, 'storepulse.db'));
    const random = seededRandom(1);
    const start = CHANGE - (days / 2) * 86_400_000;
    const insert = db.prepare('INSERT INTO events (ts, type, source, subject, data, recorded_at) VALUES (?, ?, ?, ?, ?, ?)');
    let events = 0;
    db.transaction(() => {
      for (let d = 0; d < days; d++) {
        for (let i = 0; i < 4500; i++, events++) {
          const ts = start + d * 86_400_000 + 9 * 3_600_000 + Math.floor(random() * 11 * 3_600_000);
          const event =
            i < 3000
              ? { type: 'line_crossing', ts, camera: 'door', line: 'entrance', direction: random() < 0.5 ? 'in' : 'out' }
              : { type: 'zone_visit', ts, camera: 'cam1', zone: random() < 0.5 ? SUBJECT_ZONE : CONTROL_ZONE, enter_ts: ts - 40_000, dwell_ms: 40_000, counted: true };
          insert.run(ts, event.type, event.camera, 'line' in event ? event.line : event.zone, JSON.stringify(event), ts);
        }
      }
    })();
    const settings: KpiSettings = { timeZone: 'UTC', openingTime: '08:00', entrances: [{ camera: 'door', line: 'entrance' }], engagedDwellMs: 30_000, bounceMs: 10_000, queueZones: [] };
    const range = { from: start, to: start + days * 86_400_000 };
    let t = performance.now();
    const computed = hourlyKpiHistory(db, range, settings);
    const fromEvents = (performance.now() - t) / 1000;
    const store = db.prepare("INSERT INTO aggregates (size, bin, revision, data, computed_at) VALUES ('1h', ?, 1, ?, 0)");
    db.transaction(() => {
      for (const b of computed.bins) store.run(b.from, JSON.stringify(b));
    })();
    t = performance.now();
    const stored = hourlyKpiHistory(db, range, settings, { fromEvents: false });
    const fromStored = performance.now() - t;
    if (stored.bins.length !== computed.bins.length) throw new Error('stored and computed hours differ');
    db.close();
    return { events, from_events_s: fromEvents, from_stored_bins_ms: fromStored };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const storage = values['skip-storage'] ? undefined : storageTimes(WEEKS * 14);

if (values.json) {
  console.log(JSON.stringify({ seeds: SEEDS, weeks: WEEKS, rows, analysis_ms_mean: analysisMs / analyses, storage }));
} else {
  console.log(`${SEEDS} seeded synthetic stores per scenario, ${WEEKS} weeks either side, 95 % intervals\n`);
  console.log('| scenario | interval covers the truth | reads "increase" | reads "no significant change" | Poisson-only interval covers the truth | Poisson-only reads no change |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.scenario} | ${r.covers_truth} | ${r.reads_increase} | ${r.reads_no_change} | ${r.poisson_covers_truth} | ${r.poisson_no_change} |`);
  console.log(`\none analysis (${WEEKS * 14 * 24} hourly bins, 4 metrics): ${(analysisMs / analyses).toFixed(2)} ms mean`);
  if (storage) {
    console.log(
      `reading ${WEEKS * 14} days of hourly bins from SQLite (${storage.events} events): ${storage.from_stored_bins_ms.toFixed(0)} ms from the stored bins, ${storage.from_events_s.toFixed(1)} s recomputed from the events`,
    );
  }
}

/**
 * Seeded synthetic stores for checking the impact statistics against a known truth: hourly KPI
 * bins for a subject zone and a control zone with weekly and daily seasonality, a trend both share,
 * day-to-day swings (shared "weather" and each zone's own), Poisson counting noise, and an optional
 * lift injected into the subject's traffic and dwell from the change on. Same seed, same store.
 */
import { seededRandom } from '../../common/seededRandom.js';
import type { KpiBin } from '../../kpi/kpiEngine.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface SyntheticStoreOptions {
  seed: number;
  /** UTC midnight of the change day (the synthetic store keeps UTC time). */
  change: number;
  weeks: number;
  /** Relative lift of the subject's visits from the change on (0.15 = +15 %). */
  trafficLift: number;
  /** Relative lift of the subject's mean dwell from the change on. */
  dwellLift?: number;
  /** Visits per day on an average weekday before any trend. */
  subjectVisitsPerDay?: number;
  controlVisitsPerDay?: number;
  /** Growth per week that the whole store shares (0.02 = +2 % a week). */
  trendPerWeek?: number;
  /** Standard deviation of the log of a day's factor shared by every zone (weather, events). */
  sharedDayNoise?: number;
  /** Standard deviation of the log of each zone's own day factor. */
  zoneDayNoise?: number;
}

export const SUBJECT_ZONE = 'promo';
export const CONTROL_ZONE = 'aisle';
const CAMERA = 'cam1';

/** Monday … Sunday relative to the mean. */
const WEEKDAY_FACTOR = [0.8, 0.85, 0.9, 1.0, 1.2, 1.55, 0.7];
/** Share of the day's visits per hour: open 09:00–20:00, peaks at lunch and after work. */
const HOUR_SHARE = (() => {
  const weights = Array.from({ length: 24 }, (_, h) => (h < 9 || h >= 20 ? 0 : 1 + 0.8 * Math.exp(-((h - 12.5) ** 2) / 2) + 1.1 * Math.exp(-((h - 17.5) ** 2) / 2)));
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / sum);
})();

function normal(random: () => number): number {
  // Box–Muller; 1 − u keeps the logarithm finite.
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Poisson variate by inversion: exact, and cheap for the few dozen visits an hour holds. */
function poisson(random: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 500) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  const u = random();
  while (u > cumulative && p > 0) {
    k += 1;
    p *= mean / k;
    cumulative += p;
  }
  return k;
}

function emptyBin(from: number): KpiBin {
  return {
    from,
    to: from + HOUR,
    traffic: { in: 0, out: 0, by_entrance: {} },
    staff: null,
    occupancy: { end: 0, max: 0 },
    lines: {},
    zones: {},
    queues: {},
    passers_by: null,
    capture_rate: null,
    transactions: 0,
    sales: 0,
    conversion: null,
    sales_per_visitor: null,
    satisfaction: {},
  };
}

function zoneStats(visits: number, dwellSum: number, storeIn: number): KpiBin['zones'][string] {
  const mean = visits > 0 ? dwellSum / visits : null;
  return {
    visits,
    passes: 0,
    engaged: 0,
    dwell_mean_s: mean === null ? null : Math.round(mean * 10) / 10,
    dwell_p50_s: null,
    dwell_p90_s: null,
    bounce_rate: null,
    visit_rate: storeIn > 0 ? visits / storeIn : null,
  };
}

/** Hourly bins covering `weeks` before and after the change. */
export function syntheticStoreBins(options: SyntheticStoreOptions): KpiBin[] {
  const random = seededRandom(options.seed);
  const subjectPerDay = options.subjectVisitsPerDay ?? 250;
  const controlPerDay = options.controlVisitsPerDay ?? 400;
  const storePerDay = 1200;
  const trend = options.trendPerWeek ?? 0.02;
  const shared = options.sharedDayNoise ?? 0.1;
  const own = options.zoneDayNoise ?? 0.05;
  const days = 14 * options.weeks;
  const first = options.change - 7 * options.weeks * DAY;
  const bins: KpiBin[] = [];
  for (let d = 0; d < days; d++) {
    const dayStart = first + d * DAY;
    const after = dayStart >= options.change;
    // 1970-01-01 was a Thursday: shift so that index 0 is Monday.
    const weekday = (Math.floor(dayStart / DAY) + 3) % 7;
    const level = WEEKDAY_FACTOR[weekday]! * Math.exp((trend * d) / 7) * Math.exp(shared * normal(random));
    const subjectMean = subjectPerDay * level * Math.exp(own * normal(random)) * (after ? 1 + options.trafficLift : 1);
    const controlMean = controlPerDay * level * Math.exp(own * normal(random));
    const storeMean = storePerDay * level;
    const subjectDwell = 45 * (after ? 1 + (options.dwellLift ?? 0) : 1) * Math.exp(0.05 * normal(random));
    const controlDwell = 30 * Math.exp(0.05 * normal(random));
    for (let h = 0; h < 24; h++) {
      const bin = emptyBin(dayStart + h * HOUR);
      const share = HOUR_SHARE[h]!;
      const storeIn = poisson(random, storeMean * share);
      bin.traffic.in = storeIn;
      bin.traffic.out = storeIn;
      const subjectVisits = poisson(random, subjectMean * share);
      const controlVisits = poisson(random, controlMean * share);
      // A sum of exponential dwells, approximated by its normal limit: the mean is what matters here.
      const dwellSum = (visits: number, mean: number): number => Math.max(0, visits * mean + Math.sqrt(visits) * mean * normal(random));
      if (subjectVisits > 0) bin.zones[`${CAMERA}/${SUBJECT_ZONE}`] = zoneStats(subjectVisits, dwellSum(subjectVisits, subjectDwell), storeIn);
      if (controlVisits > 0) bin.zones[`${CAMERA}/${CONTROL_ZONE}`] = zoneStats(controlVisits, dwellSum(controlVisits, controlDwell), storeIn);
      bin.transactions = poisson(random, storeIn * 0.25);
      bin.conversion = storeIn > 0 ? bin.transactions / storeIn : null;
      bins.push(bin);
    }
  }
  return bins;
}

/**
 * Calendar bins in the store's own time zone: a "day" is the store's day and opening time is local,
 * whatever the gateway's system clock zone is. Pure; uses Intl for the zone rules (DST included).
 */

export type BinSize = '1m' | '15m' | '1h' | '1d';
export const BIN_SIZES: readonly BinSize[] = ['1m', '15m', '1h', '1d'];

const MINUTE = 60_000;
const FIXED_MS: Record<Exclude<BinSize, '1d'>, number> = { '1m': MINUTE, '15m': 15 * MINUTE, '1h': 60 * MINUTE };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * Offsets already asked, per zone and UTC minute. Why: the KPI engine asks the offset dozens of times
 * per bin and Intl's formatToParts is slow and allocates (0.9 s of CPU per store-day when a fleet of
 * bins is computed). Exact: time-zone transitions fall on whole minutes, so the offset is constant
 * within a UTC minute and only the seconds of `ts` itself matter (added back below). Bounded: cleared
 * when full — the engine keeps asking about a few recent minutes.
 */
const offsetByMinute = new Map<string, Map<number, number>>();
const MAX_CACHED_MINUTES = 50_000;

/** Local wall-clock time minus UTC at the instant `ts`, in ms (e.g. +3,600,000 for Paris in winter). */
export function zoneOffsetMs(ts: number, timeZone: string): number {
  const minute = Math.floor(ts / MINUTE);
  let cache = offsetByMinute.get(timeZone);
  if (!cache) offsetByMinute.set(timeZone, (cache = new Map()));
  let offset = cache.get(minute);
  if (offset === undefined) {
    offset = intlOffsetMs(minute * MINUTE, timeZone);
    if (cache.size >= MAX_CACHED_MINUTES) cache.clear();
    cache.set(minute, offset);
  }
  return offset;
}

/** The offset as Intl computes it (whole seconds of `ts` only, as the formatter has no milliseconds). */
function intlOffsetMs(ts: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ts))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(ts / 1000) * 1000;
}

/** Converts a local wall-clock instant (expressed as if it were UTC) back to a real instant. */
function localToInstant(localMs: number, timeZone: string): number {
  const guess = localMs - zoneOffsetMs(localMs, timeZone);
  return localMs - zoneOffsetMs(guess, timeZone);
}

/** Start of the bin that contains `ts`. */
export function binStart(ts: number, size: BinSize, timeZone: string): number {
  const local = ts + zoneOffsetMs(ts, timeZone);
  const floored = size === '1d' ? Math.floor(local / (24 * 60 * MINUTE)) * 24 * 60 * MINUTE : Math.floor(local / FIXED_MS[size]) * FIXED_MS[size];
  const start = localToInstant(floored, timeZone);
  // A DST jump inside the bin can move the start past ts; the bin then starts at the jump.
  if (start > ts) return ts - (ts % MINUTE);
  // In the hour repeated when clocks go back, the wall-clock start maps to its first occurrence, a
  // whole bin before ts (nextBinStart would then never advance): the bin is the second occurrence.
  if (size !== '1d' && start + FIXED_MS[size] <= ts) return ts - (local - floored);
  return start;
}

/** Start of the bin after the one that contains `ts`. */
export function nextBinStart(ts: number, size: BinSize, timeZone: string): number {
  const start = binStart(ts, size, timeZone);
  if (size !== '1d') return start + FIXED_MS[size];
  // Days are 23–25 h long around DST changes: step past 26 h and floor again.
  return binStart(start + 26 * 60 * MINUTE, '1d', timeZone);
}

/** The bins [start, end) covering [from, to). */
export function binsBetween(from: number, to: number, size: BinSize, timeZone: string): { from: number; to: number }[] {
  const bins: { from: number; to: number }[] = [];
  for (let start = binStart(from, size, timeZone); start < to; ) {
    const end = nextBinStart(start, size, timeZone);
    bins.push({ from: start, to: end });
    start = end;
  }
  return bins;
}

/** The latest local opening time ("HH:MM") at or before `ts`: where the day's occupancy restarts from 0. */
export function lastOpening(ts: number, openingTime: string, timeZone: string): number {
  const [h, m] = openingTime.split(':').map(Number) as [number, number];
  const dayStart = binStart(ts, '1d', timeZone);
  const offsetMs = (h * 60 + m) * MINUTE;
  const today = localToInstant(dayStart + zoneOffsetMs(dayStart, timeZone) + offsetMs, timeZone);
  if (today <= ts) return today;
  const yesterday = binStart(dayStart - 1, '1d', timeZone);
  return localToInstant(yesterday + zoneOffsetMs(yesterday, timeZone) + offsetMs, timeZone);
}

/** ISO 8601 with the store's offset, e.g. 2026-11-22T09:00:00+01:00 (what analysts read in exports). */
export function formatLocal(ts: number, timeZone: string): string {
  const offset = zoneOffsetMs(ts, timeZone);
  const local = new Date(ts + offset).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / MINUTE;
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

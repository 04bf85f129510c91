/**
 * The periods an impact analysis compares: N weeks before a change and N weeks after it, cut into
 * day-sized units that start at the change's local time of day, so that every unit after the change
 * has a twin at the same weekday and hours before it. Local time is the store's (DST included).
 */
import { zoneOffsetMs } from '../../kpi/timeBins.js';
import type { Side } from './stratifiedLift.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export class ImpactInputError extends Error {}

export interface ChangeUnit {
  /** Days from the change: −7N … −1 before it, 0 … 7N−1 after it. */
  index: number;
  side: Side;
  /** 0–6: units with the same stratum fall on the same weekday. */
  stratum: number;
  start: number;
  end: number;
  /** Local calendar date of the unit's start (YYYY-MM-DD), for people. */
  date: string;
}

export interface ChangeWindow {
  change: number;
  weeks: number;
  from: number;
  to: number;
  units: ChangeUnit[];
}

/** Local wall-clock time (as if it were UTC) to the instant it names in `timeZone`. */
function localToInstant(localMs: number, timeZone: string): number {
  const guess = localMs - zoneOffsetMs(localMs, timeZone);
  return localMs - zoneOffsetMs(guess, timeZone);
}

/**
 * "2026-03-14" (the start of that day) or "2026-03-14T09:30" in the store's local time. Impact works
 * on hourly KPI bins, so minutes are dropped: the change counts from the start of its hour.
 */
export function parseChangeTime(text: string, timeZone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?$/.exec(text.trim());
  if (!m) throw new ImpactInputError(`change must be a local date YYYY-MM-DD or date and time YYYY-MM-DDTHH:MM, got "${text}"`);
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0'].map(Number) as [number, number, number, number, number];
  const local = Date.UTC(year, month - 1, day, hour);
  const check = new Date(local);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || year < 1971) {
    throw new ImpactInputError(`change "${text}" is not a valid date and time`);
  }
  return localToInstant(local, timeZone);
}

export function changeWindow(change: number, weeks: number, timeZone: string): ChangeWindow {
  if (!Number.isInteger(weeks) || weeks < 1) throw new ImpactInputError(`weeks must be a positive integer, got ${weeks}`);
  const localChange = change + zoneOffsetMs(change, timeZone);
  const startOf = (index: number): number => localToInstant(localChange + index * DAY, timeZone);
  const units: ChangeUnit[] = [];
  for (let index = -7 * weeks; index < 7 * weeks; index++) {
    const start = startOf(index);
    units.push({
      index,
      side: index < 0 ? 'before' : 'after',
      stratum: ((index % 7) + 7) % 7,
      start,
      end: startOf(index + 1),
      date: new Date(localChange + index * DAY).toISOString().slice(0, 10),
    });
  }
  return { change, weeks, from: units[0]!.start, to: units.at(-1)!.end, units };
}

/** Hours a unit spans (23 or 25 across a DST change). */
export const unitHours = (unit: Pick<ChangeUnit, 'start' | 'end'>): number => Math.round((unit.end - unit.start) / HOUR);

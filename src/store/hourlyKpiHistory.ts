/**
 * Hourly KPI bins over a long period, for analyses that look back weeks (impact of a change): the
 * stored hourly aggregates where the KPI recorder made them, and (optionally) for days it did not —
 * the gateway was installed with imported history, or it started mid-day — the same bins computed
 * from the stored events by the same KPI engine. Hours that neither source covers are simply absent, so the
 * caller can tell "no data" from "nobody came".
 */
import { foldKpis, type KpiBin, type KpiSettings } from '../kpi/kpiEngine.js';
import { binsBetween, binStart } from '../kpi/timeBins.js';
import type { Db } from './database.js';
import { readKpiInput } from './eventStore.js';

export interface HourlyHistory {
  bins: KpiBin[];
  /** Hours read from the stored aggregates, and hours computed from the events. */
  storedHours: number;
  computedHours: number;
}

export interface HourlyHistoryOptions {
  /**
   * Compute the days without stored bins from the events (default true). Costly — about half a
   * second per busy day (docs/benchmarks.md) — so the gateway's own API, which must not stall its
   * cameras, turns it off; the CLI, a separate process, keeps it.
   */
  fromEvents?: boolean;
}

export function hourlyKpiHistory(db: Db, range: { from: number; to: number }, settings: KpiSettings, options: HourlyHistoryOptions = {}): HourlyHistory {
  const fromEvents = options.fromEvents ?? true;
  const stored = new Map<number, KpiBin>();
  const rows = db.prepare("SELECT bin, data FROM aggregates WHERE size = '1h' AND bin >= ? AND bin < ? ORDER BY bin").all(range.from, range.to) as { bin: number; data: string }[];
  for (const r of rows) stored.set(r.bin, JSON.parse(r.data) as KpiBin);
  const anyEvent = db.prepare('SELECT 1 FROM events WHERE ts >= ? AND ts < ? LIMIT 1');
  const bins: KpiBin[] = [];
  let computedHours = 0;
  for (const day of binsBetween(range.from, range.to, '1d', settings.timeZone)) {
    const from = Math.max(day.from, range.from);
    const to = Math.min(day.to, range.to);
    const hours = binsBetween(from, to, '1h', settings.timeZone);
    const missing = hours.filter((h) => !stored.has(h.from));
    let computed = new Map<number, KpiBin>();
    if (fromEvents && missing.length > 0 && anyEvent.get(from, to)) {
      // Streamed and folded (issue 15): a busy day's sensor readings are never read, its KPI events never all held.
      const start = binStart(from, '1h', settings.timeZone);
      const input = readKpiInput(db, start, to, settings);
      computed = new Map(foldKpis(input.events, settings, { from: start, to, size: '1h' }, input.carry).map((b) => [b.from, b]));
    }
    for (const h of hours) {
      const bin = stored.get(h.from) ?? computed.get(h.from);
      if (!bin) continue;
      if (!stored.has(h.from)) computedHours += 1;
      bins.push(bin);
    }
  }
  return { bins, storedHours: bins.length - computedHours, computedHours };
}

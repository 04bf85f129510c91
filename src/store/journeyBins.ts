/**
 * The saved copy of the journey minute bins (table journey_bins), so that the journeys of the last
 * days survive a restart or a power cut. Rows are keyed by a digest of the journey settings they were
 * counted under: bins of another funnel or zone set are never merged with the running ones.
 */
import { createHash } from 'node:crypto';
import { isJourneyCounts, type JourneyCounts } from '../analytics/journeys/journeyAggregate.js';
import type { Db } from './database.js';

/** Short and fixed-size: the settings themselves (polygons…) would be repeated on every row. */
export const setupDigest = (countsKey: string): string => createHash('sha256').update(countsKey).digest('hex').slice(0, 16);

export class JourneyBinTable {
  private readonly upsert;
  private readonly select;
  private readonly deleteBefore;

  constructor(private readonly db: Db) {
    this.upsert = db.prepare('INSERT INTO journey_bins (setup, minute, counts, saved_at) VALUES (?, ?, ?, ?) ON CONFLICT (setup, minute) DO UPDATE SET counts = excluded.counts, saved_at = excluded.saved_at');
    this.select = db.prepare('SELECT minute, counts FROM journey_bins WHERE setup = ? AND minute >= ? ORDER BY minute');
    this.deleteBefore = db.prepare('DELETE FROM journey_bins WHERE minute < ?');
  }

  /** Writes the given minute bins in one transaction (a bin already saved is replaced by its newer counts). */
  save(countsKey: string, bins: readonly [number, JourneyCounts][], nowMs: number): void {
    const setup = setupDigest(countsKey);
    this.db.transaction(() => {
      for (const [minute, counts] of bins) this.upsert.run(setup, minute, JSON.stringify(counts), nowMs);
    })();
  }

  /** Saved bins of these settings from `fromMs` on. A row that is not journey counts is skipped and reported. */
  load(countsKey: string, fromMs: number): { bins: [number, JourneyCounts][]; unreadable: number } {
    const bins: [number, JourneyCounts][] = [];
    let unreadable = 0;
    for (const row of this.select.all(setupDigest(countsKey), fromMs) as { minute: number; counts: string }[]) {
      let counts: unknown;
      try {
        counts = JSON.parse(row.counts);
      } catch {
        counts = undefined;
      }
      if (isJourneyCounts(counts)) bins.push([row.minute, counts]);
      else unreadable += 1;
    }
    return { bins, unreadable };
  }

  /** Deletes bins older than `beforeMs` (every setup); returns how many. */
  prune(beforeMs: number): number {
    return this.deleteBefore.run(beforeMs).changes;
  }
}

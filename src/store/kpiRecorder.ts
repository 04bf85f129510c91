/**
 * Turns stored events into stored KPI bins and queues them upstream: 1-minute aggregates and the
 * 15-minute, hourly and daily KPIs, each computed once its bin has closed. An event that arrives
 * late for an already computed bin (a long queue visit, a sensor's buffered reading) marks the bins
 * from its time on as dirty; they are recomputed and, where the numbers changed, stored and sent
 * again with the next revision.
 */
import type { GatewayContext } from '../gateway/context.js';
import type { StoreEvent } from '../kpi/events.js';
import { foldKpis, type KpiBin, type KpiSettings } from '../kpi/kpiEngine.js';
import { binStart, type BinSize } from '../kpi/timeBins.js';
import { kpiMessage, type GatewayIdentity } from '../upstream/messages.js';
import { getMeta, setMeta, type Db } from './database.js';
import type { EventStore } from './eventStore.js';
import type { Outbox } from './outbox.js';

export const RECORDED_SIZES: readonly BinSize[] = ['1m', '15m', '1h', '1d'];

export interface KpiRecorderOptions {
  ctx: GatewayContext;
  events: EventStore;
  outbox: Outbox;
  settings: () => KpiSettings;
  identity: () => GatewayIdentity;
  /** A bin is computed this long after it closes, so events in flight make it in. */
  graceMs?: number;
  /** Late events older than this no longer change stored bins. */
  maxLatenessMs?: number;
}

export interface StoredBin {
  size: BinSize;
  bin: number;
  revision: number;
  kpis: KpiBin;
}

const DAY = 86_400_000;

export class KpiRecorder {
  private dirtyFrom = Infinity;
  private readonly selectBin;
  private readonly upsertBin;

  constructor(
    private readonly db: Db,
    private readonly options: KpiRecorderOptions,
  ) {
    this.selectBin = db.prepare('SELECT revision, data FROM aggregates WHERE size = ? AND bin = ?');
    this.upsertBin = db.prepare(
      'INSERT INTO aggregates (size, bin, revision, data, computed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (size, bin) DO UPDATE SET revision = excluded.revision, data = excluded.data, computed_at = excluded.computed_at',
    );
    options.events.onCommitted((events) => this.noteCommitted(events));
  }

  private noteCommitted(events: readonly StoreEvent[]): void {
    for (const e of events) {
      // A zone visit also changes queue lengths (and plan zone occupancy) back to when it started.
      const earliest = e.type === 'zone_visit' || e.type === 'plan_zone_visit' ? e.enter_ts : e.ts;
      if (earliest < this.dirtyFrom) this.dirtyFrom = earliest;
    }
  }

  /** Computes every closed bin not computed yet (and dirty ones again); returns the bins stored. */
  tick(): StoredBin[] {
    const { ctx } = this.options;
    const now = ctx.now();
    const settings = this.options.settings();
    const stored: StoredBin[] = [];
    const oldest = now - (this.options.maxLatenessMs ?? DAY);
    for (const size of RECORDED_SIZES) {
      const closedUntil = binStart(now - (this.options.graceMs ?? 5_000), size, settings.timeZone);
      const watermarkKey = `kpi_watermark_${size}`;
      const saved = getMeta(this.db, watermarkKey);
      // First run: start with the bin in progress, history is not back-filled.
      const watermark = saved === undefined ? closedUntil : Number(saved);
      let from = Math.max(Math.min(watermark, this.dirtyFrom), oldest, size === '1m' ? closedUntil - DAY : -Infinity);
      from = binStart(from, size, settings.timeZone);
      if (from < closedUntil) stored.push(...this.record(size, from, closedUntil, settings));
      setMeta(this.db, watermarkKey, String(Math.max(watermark, closedUntil)));
    }
    this.dirtyFrom = Infinity;
    return stored;
  }

  private record(size: BinSize, from: number, to: number, settings: KpiSettings): StoredBin[] {
    const { ctx, events, outbox } = this.options;
    const input = events.kpiInput(from, to, settings);
    const bins = foldKpis(input.events, settings, { from, to, size }, input.carry);
    const identity = this.options.identity();
    const now = ctx.now();
    const stored: StoredBin[] = [];
    this.db.transaction(() => {
      for (const bin of bins) {
        const data = JSON.stringify(bin);
        const previous = this.selectBin.get(size, bin.from) as { revision: number; data: string } | undefined;
        if (previous?.data === data) continue;
        const revision = (previous?.revision ?? 0) + 1;
        this.upsertBin.run(size, bin.from, revision, data, now);
        outbox.enqueue(kpiMessage(size, bin, revision, settings.timeZone, identity), now);
        stored.push({ size, bin: bin.from, revision, kpis: bin });
      }
    })();
    if (stored.length) {
      ctx.metrics.aggregatesComputed.inc({ size }, stored.length);
      ctx.metrics.storeWrites.inc({ table: 'aggregates' }, stored.length);
    }
    return stored;
  }

  /** Stored bins of one size in [from, to). */
  bins(size: BinSize, from: number, to: number): StoredBin[] {
    const rows = this.db.prepare('SELECT bin, revision, data FROM aggregates WHERE size = ? AND bin >= ? AND bin < ? ORDER BY bin').all(size, from, to) as {
      bin: number;
      revision: number;
      data: string;
    }[];
    return rows.map((r) => ({ size, bin: r.bin, revision: r.revision, kpis: JSON.parse(r.data) as KpiBin }));
  }
}

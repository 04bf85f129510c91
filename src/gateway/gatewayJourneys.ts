/**
 * The live gateway's side of the journey analytics (src/analytics/journeys): feeds the store-level
 * tracks that multi-camera fusion releases (src/fusion/liveFusion.ts, `onSamples`) to the journey
 * service, counts and logs refused input, saves the minute bins to SQLite (restored after a restart)
 * and puts every closed journey bin into the upstream outbox. One person seen by two cameras is one
 * fused track, so one journey.
 */
import { JOURNEY_RETENTION_MS, JourneyService, UPSTREAM_BIN } from '../analytics/journeys/journeyService.js';
import { JourneyBinTable } from '../store/journeyBins.js';
import type { Db } from '../store/database.js';
import type { PlanTrackSample } from '../analytics/journeys/planTrack.js';
import { journeysMessage } from '../upstream/messages.js';
import type { DataStore } from '../store/dataStore.js';
import type { GatewayConfig } from './config/configSchema.js';
import type { GatewayContext } from './context.js';

/** How often bins are saved and closed ones looked for (a power cut loses at most this much of the journeys' counts). */
const PUBLISH_INTERVAL_MS = 30_000;
/** One warning per reason per this long, with the count since the last one (no log flood from a bad camera). */
const WARN_INTERVAL_MS = 60_000;

export class GatewayJourneys {
  readonly service: JourneyService;
  private timer: NodeJS.Timeout | undefined;
  private readonly refused = new Map<string, { count: number; warnedAtMs: number }>();
  private planKey: string | undefined;
  /** Bumped whenever fusion restarts (it numbers its store tracks from 1 again). */
  private fusedGeneration = 0;
  private lastFusedMs = -Infinity;
  private table: { db: Db; bins: JourneyBinTable } | undefined;
  /** The settings whose saved bins were read back (so that they are read once per settings). */
  private restoredKey: string | undefined;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly store: () => DataStore | undefined,
    private readonly config: () => GatewayConfig,
  ) {
    this.service = new JourneyService(ctx.now, {
      completed: (n) => ctx.metrics.journeysCompleted.inc(n),
      rejected: (reason, n) => this.refuse(reason, n),
    });
  }

  private get fusedSource(): string {
    return `store:${this.fusedGeneration}`;
  }

  /**
   * (Re)reads the config after fusion has: a changed plan restarted fusion, whose last samples are
   * in by now, so the journeys of the old track numbering are ended before the new one begins.
   */
  apply(config: GatewayConfig): void {
    const wasEnabled = this.service.enabled;
    // Counts of the settings in force so far are saved before new settings may replace them.
    this.save();
    this.service.apply(config);
    this.restore();
    const planKey = JSON.stringify(config.plan ?? null);
    if (planKey !== this.planKey) {
      this.service.endStream(this.fusedSource);
      this.fusedGeneration += 1;
      this.planKey = planKey;
      this.lastFusedMs = -Infinity;
    }
    if (this.service.enabled && !wasEnabled) this.ctx.log.info({ zones: config.journeys?.zones ?? config.plan?.zones.map((z) => z.name) }, 'journeys on');
    if (this.service.enabled && !this.timer) {
      this.timer = setInterval(() => this.publish(), PUBLISH_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /**
   * Fused samples as fusion releases them: several ticks at once, each tick's positions sharing its
   * time. A tick with nobody on the floor carries no sample, so a release without any sample moves
   * the stream on to the newest time fusion has decided (it releases a tick once it is
   * `decision_delay_s` old); otherwise the last journeys before a quiet spell would not end. Only
   * then: an empty moment made up between two ticks that do see someone would cut their visits.
   */
  onFusedSamples(samples: readonly PlanTrackSample[], tMs: number): void {
    if (!this.service.enabled) return;
    if (samples.length === 0) {
      const settledMs = tMs - (this.config().plan?.fusion.decision_delay_s ?? 0) * 1000;
      if (settledMs > this.lastFusedMs) {
        this.service.onPlanSamples(this.fusedSource, [], settledMs);
        this.lastFusedMs = settledMs;
      }
      return;
    }
    const byTime = new Map<number, PlanTrackSample[]>();
    for (const s of samples) {
      const frame = byTime.get(s.tMs);
      if (frame) frame.push(s);
      else byTime.set(s.tMs, [s]);
    }
    for (const t of [...byTime.keys()].sort((a, b) => a - b)) {
      this.service.onPlanSamples(this.fusedSource, byTime.get(t)!, t);
      this.lastFusedMs = Math.max(this.lastFusedMs, t);
    }
  }

  /** Saves the changed bins, then puts closed bins into the outbox (kept in memory until a store is open). */
  publish(): number {
    this.save();
    const store = this.store();
    if (!store) return 0;
    const bins = this.service.closedBins();
    const config = this.config();
    const now = this.ctx.now();
    for (const bin of bins) store.outbox.enqueue(journeysMessage(UPSTREAM_BIN, bin, config.timezone, store.identity()), now);
    return bins.length;
  }

  /** Shutdown (after fusion released its last samples): journeys in progress end at their last sighting and are saved. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.service.flush();
    this.save();
  }

  private binTable(): JourneyBinTable | undefined {
    const db = this.store()?.db;
    if (!db) return undefined;
    if (this.table?.db !== db) this.table = { db, bins: new JourneyBinTable(db) };
    return this.table.bins;
  }

  /** Changed minute bins to SQLite, and bins past the retention out of it. A failure is logged and counted; the counts stay in memory. */
  save(): void {
    const key = this.service.countsKey;
    const table = this.binTable();
    if (!key || !table) return;
    const changed = this.service.takeChangedBins();
    const now = this.ctx.now();
    try {
      if (changed.length) table.save(key, changed, now);
      table.prune(now - JOURNEY_RETENTION_MS);
      if (changed.length) this.ctx.metrics.storeWrites.inc({ table: 'journey_bins' }, changed.length);
    } catch (err) {
      this.ctx.metrics.storeWriteErrors.inc({ reason: 'journey_bins' });
      this.ctx.log.error({ err: (err as Error).message, bins: changed.length }, 'journeys: minute bins not saved (kept in memory; lost on restart)');
    }
  }

  private restore(): void {
    const key = this.service.countsKey;
    if (key === this.restoredKey) return;
    this.restoredKey = key;
    const table = this.binTable();
    if (!key || !table) return;
    try {
      const { bins, unreadable } = table.load(key, this.ctx.now() - JOURNEY_RETENTION_MS);
      this.service.restoreBins(bins);
      if (unreadable) this.ctx.log.warn({ unreadable }, 'journeys: saved minute bins that are not journey counts were skipped');
      if (bins.length) this.ctx.log.info({ bins: bins.length }, 'journeys: saved minute bins restored');
    } catch (err) {
      this.ctx.log.error({ err: (err as Error).message }, 'journeys: saved minute bins could not be read (starting from empty counts)');
    }
  }

  private refuse(reason: string, count: number): void {
    this.ctx.metrics.journeyInputRejected.inc({ reason }, count);
    const state = this.refused.get(reason) ?? { count: 0, warnedAtMs: -Infinity };
    state.count += count;
    const now = this.ctx.now();
    if (now - state.warnedAtMs >= WARN_INTERVAL_MS) {
      this.ctx.log.warn({ reason, count: state.count }, 'journeys: input refused (see storepulse_journey_input_rejected_total)');
      state.count = 0;
      state.warnedAtMs = now;
    }
    this.refused.set(reason, state);
  }
}

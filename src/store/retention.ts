/**
 * Keeps the database inside its limits. Retention deletes rows older than their table's period;
 * the disk quota, when exceeded, deletes the oldest rows in order of expendability: raw events
 * first (the aggregates summarise them), then aggregates, and undelivered outbox messages last —
 * that last step loses data upstream, so it is logged as an error and counted.
 */
import type { GatewayContext } from '../gateway/context.js';
import { usedBytes, type Db } from './database.js';

export interface RetentionPolicy {
  eventsDays: number;
  aggregatesDays: number;
  quotaBytes: number;
}

const DAY = 86_400_000;
const CHUNK = 2_000;
/** Prune down to this share of the quota, so the next writes do not trigger pruning again at once. */
const LOW_WATER = 0.9;

type PrunableTable = 'dead_letters' | 'events' | 'aggregates' | 'outbox';

const OLDEST_FIRST: Record<PrunableTable, string> = {
  dead_letters: 'DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters ORDER BY id LIMIT ?)',
  events: 'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?)',
  aggregates: 'DELETE FROM aggregates WHERE (size, bin) IN (SELECT size, bin FROM aggregates ORDER BY bin LIMIT ?)',
  outbox: 'DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)',
};

export class Retention {
  constructor(
    private readonly db: Db,
    private readonly policyOf: () => RetentionPolicy,
    private readonly ctx: GatewayContext,
  ) {}

  /** Deletes what is past its retention period; returns rows deleted per table. */
  applyRetention(): Record<string, number> {
    const now = this.ctx.now();
    const policy = this.policyOf();
    const events = this.db.prepare('DELETE FROM events WHERE ts < ?').run(now - policy.eventsDays * DAY).changes;
    const aggregates = this.db.prepare('DELETE FROM aggregates WHERE bin < ?').run(now - policy.aggregatesDays * DAY).changes;
    const deadLetters = this.db.prepare('DELETE FROM dead_letters WHERE received_at < ?').run(now - policy.eventsDays * DAY).changes;
    if (deadLetters) this.ctx.metrics.storePruned.inc({ table: 'dead_letters', reason: 'retention' }, deadLetters);
    if (events) this.ctx.metrics.storePruned.inc({ table: 'events', reason: 'retention' }, events);
    if (aggregates) this.ctx.metrics.storePruned.inc({ table: 'aggregates', reason: 'retention' }, aggregates);
    if (events || aggregates) this.ctx.log.info({ events, aggregates }, 'retention: deleted rows past their retention period');
    this.giveBackSpace();
    return { events, aggregates, dead_letters: deadLetters };
  }

  /**
   * Deletes the oldest rows, most expendable table first, until the data fits in the quota (or
   * `force`: frees at least one chunk, after the disk itself filled up). Returns true if it deleted
   * anything.
   */
  enforceQuota(force = false): boolean {
    const policy = this.policyOf();
    const used = usedBytes(this.db);
    this.ctx.metrics.storeBytes.set(used);
    if (!force && used <= policy.quotaBytes) return false;
    const target = force ? Math.min(used * LOW_WATER, policy.quotaBytes * LOW_WATER) : policy.quotaBytes * LOW_WATER;
    const deleted: Record<PrunableTable, number> = { dead_letters: 0, events: 0, aggregates: 0, outbox: 0 };
    for (const table of ['dead_letters', 'events', 'aggregates', 'outbox'] as const) {
      const statement = this.db.prepare(OLDEST_FIRST[table]);
      while (usedBytes(this.db) > target) {
        const n = statement.run(CHUNK).changes;
        if (n === 0) break;
        deleted[table] += n;
      }
    }
    const total = deleted.dead_letters + deleted.events + deleted.aggregates + deleted.outbox;
    for (const table of ['dead_letters', 'events', 'aggregates', 'outbox'] as const) {
      if (deleted[table]) this.ctx.metrics.storePruned.inc({ table, reason: 'quota' }, deleted[table]);
    }
    const details = { ...deleted, used_bytes: used, quota_bytes: policy.quotaBytes, forced: force };
    if (deleted.outbox) this.ctx.log.error(details, 'disk quota: undelivered upstream messages deleted (the uplink has been down too long for the quota)');
    else if (total) this.ctx.log.warn(details, 'disk quota: oldest rows deleted');
    this.giveBackSpace();
    this.ctx.metrics.storeBytes.set(usedBytes(this.db));
    return total > 0;
  }

  private giveBackSpace(): void {
    this.db.pragma('incremental_vacuum');
  }
}

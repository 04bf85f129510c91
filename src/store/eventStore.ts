/**
 * Appends events durably. Writers are group-committed: appends arriving in the same tick share one
 * transaction (one fsync), which is what lets a busy store write thousands of events per second
 * with synchronous=FULL. An append's promise resolves once its transaction has committed — that is
 * the moment an event counts as acknowledged — and its upstream message is committed with it.
 */
import type { GatewayContext } from '../gateway/context.js';
import { eventSource, eventSubject, STORE_EVENT_TYPES, type StoreEvent, type StoreEventType } from '../kpi/events.js';
import { foldKpiHistory, KPI_EVENT_TYPES, kpiHistoryStart, type KpiCarry, type KpiSettings } from '../kpi/kpiEngine.js';
import type { OutboxMessage } from '../upstream/messages.js';
import { isDiskFull, type Db } from './database.js';
import type { Outbox } from './outbox.js';

export interface StoredEvent {
  id: number;
  recorded_at: number;
  event: StoreEvent;
}

export interface EventQuery {
  from: number;
  to: number;
  types?: readonly StoreEventType[];
  source?: string;
  subject?: string;
  afterId?: number;
  limit?: number;
}

interface Pending {
  event: StoreEvent;
  resolve: (id: number) => void;
  reject: (err: Error) => void;
  sideWrite: (() => void) | undefined;
}

export interface EventStoreOptions {
  ctx: GatewayContext;
  outbox: Outbox;
  /** The upstream message for an event (undefined: keep it local). */
  toMessage: (event: StoreEvent, id: number) => OutboxMessage | undefined;
  /** Called when the disk or the quota is full: frees space, returns true if it did. */
  makeRoom: () => boolean;
  /** Appends in one transaction at most (bounds the latency of a huge burst). */
  maxBatch?: number;
}

export class EventStore {
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly insert;
  private readonly listeners = new Set<(events: readonly StoreEvent[]) => void>();

  constructor(
    private readonly db: Db,
    private readonly options: EventStoreOptions,
  ) {
    this.insert = db.prepare('INSERT INTO events (ts, type, source, subject, data, recorded_at) VALUES (?, ?, ?, ?, ?, ?)');
  }

  /**
   * `sideWrite` runs in the event's transaction: state that must change exactly when the event is
   * stored (a door counter's last total) commits or rolls back with it.
   */
  append(event: StoreEvent, sideWrite?: () => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.push({ event, resolve, reject, sideWrite });
      if (this.pending.length >= (this.options.maxBatch ?? 1000)) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Called after each commit with the events it held (the aggregator marks their bins dirty). */
  onCommitted(listener: (events: readonly StoreEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Commits everything pending now. */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const { ctx } = this.options;
    let ids: number[];
    try {
      ids = this.commit(batch);
    } catch (err) {
      if (isDiskFull(err) && this.tryMakeRoom()) {
        try {
          ids = this.commit(batch);
        } catch (retryErr) {
          return this.fail(batch, retryErr as Error);
        }
      } else {
        return this.fail(batch, err as Error);
      }
    }
    ctx.metrics.storeWrites.inc({ table: 'events' }, batch.length);
    batch.forEach((p, i) => p.resolve(ids[i]!));
    const events = batch.map((p) => p.event);
    for (const listener of this.listeners) listener(events);
  }

  private tryMakeRoom(): boolean {
    try {
      return this.options.makeRoom();
    } catch (err) {
      this.options.ctx.log.error({ err: (err as Error).message }, 'cannot free space in the database');
      return false;
    }
  }

  private commit(batch: readonly Pending[]): number[] {
    const { outbox, toMessage, ctx } = this.options;
    const now = ctx.now();
    return this.db.transaction(() =>
      batch.map(({ event, sideWrite }) => {
        const id = Number(this.insert.run(event.ts, event.type, eventSource(event), eventSubject(event) ?? null, JSON.stringify(event), now).lastInsertRowid);
        sideWrite?.();
        const message = toMessage(event, id);
        if (message) outbox.enqueue(message, now);
        return id;
      }),
    )();
  }

  private fail(batch: readonly Pending[], err: Error): void {
    const reason = isDiskFull(err) ? 'disk_full' : 'io';
    this.options.ctx.metrics.storeWriteErrors.inc({ reason }, batch.length);
    this.options.ctx.log.error({ err: err.message, events: batch.length, reason }, 'events could not be stored');
    const error = new Error(`events not stored (${reason}): ${err.message}`);
    for (const p of batch) p.reject(error);
  }

  query(q: EventQuery): StoredEvent[] {
    const where = ['ts >= @from', 'ts < @to'];
    const types = q.types?.filter((t) => STORE_EVENT_TYPES.includes(t)) ?? [];
    if (types.length) where.push(`type IN (${types.map((t) => `'${t}'`).join(',')})`);
    if (q.source) where.push('source = @source');
    if (q.subject) where.push('subject = @subject');
    if (q.afterId) where.push('id > @afterId');
    const sql = `SELECT id, recorded_at, data FROM events WHERE ${where.join(' AND ')} ORDER BY ts, id LIMIT @limit`;
    const rows = this.db.prepare(sql).all({ from: q.from, to: q.to, source: q.source, subject: q.subject, afterId: q.afterId ?? 0, limit: q.limit ?? -1 }) as {
      id: number;
      recorded_at: number;
      data: string;
    }[];
    return rows.map((r) => ({ id: r.id, recorded_at: r.recorded_at, event: JSON.parse(r.data) as StoreEvent }));
  }

  /**
   * What `computeKpis` needs for the bins of [from, to), without holding the day's events (issue 15):
   * the events of [from, to) of the types KPIs read, and the day before `from` folded into a carry
   * while it is read, one row at a time. Door counts that are no entrance are never read: at a
   * sensor's rate they were most of the day's rows. `events` is read lazily, once, in time order
   * (for foldKpis): no bin holds them all, however long it is. Use it up before the next query.
   */
  kpiInput(from: number, to: number, settings: KpiSettings): KpiInput {
    return readKpiInput(this.db, from, to, settings);
  }

  /**
   * The store-level plan events of [from, to) by their time, the only ones the floor plan's figures
   * read: a period of a busy gateway without its sensor readings (most of the rows).
   */
  planEvents(from: number, to: number): StoreEvent[] {
    const rows = this.db.prepare("SELECT data FROM events WHERE type IN ('plan_line_crossing', 'plan_zone_visit') AND ts >= ? AND ts < ? ORDER BY ts, id").all(from, to) as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as StoreEvent);
  }

  /**
   * Every event of [historyFrom, to), all held at once, and staff presence a day further back: what
   * the KPI computation read before the fold, kept for the tests that hold the fold to it. The daemon
   * uses kpiInput.
   */
  eventsForKpis(historyFrom: number, to: number): StoreEvent[] {
    const rows = this.db
      .prepare("SELECT data FROM events WHERE (ts >= ? AND ts < ?) OR (type = 'staff_presence' AND ts >= ? AND ts < ?) ORDER BY ts, id")
      .all(historyFrom, to, historyFrom - 86_400_000, historyFrom) as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as StoreEvent);
  }
}

function* parseEach(rows: Iterable<{ data: string }>): Generator<StoreEvent> {
  for (const row of rows) yield JSON.parse(row.data) as StoreEvent;
}

/** What foldKpis needs for [from, to): the events, read lazily once, and the day before folded. */
export interface KpiInput {
  events: Iterable<StoreEvent>;
  carry: KpiCarry;
}

/**
 * EventStore.kpiInput on any database handle (the CLI opens the file itself).
 */
export function readKpiInput(db: Db, from: number, to: number, settings: KpiSettings): KpiInput {
  const historyFrom = kpiHistoryStart(from, settings);
  const doors = settings.entrances.flatMap((e) => ('sensor' in e ? [e.sensor] : []));
  const doorList = doors.map(() => '?').join(', ');
  // Each branch reads its type through the (type, ts) index; staff presence reaches a day further back.
  const history = db
    .prepare(
      [
        "SELECT id, ts, data FROM events WHERE type = 'staff_presence' AND ts >= ? AND ts < ?",
        "SELECT id, ts, data FROM events WHERE type IN ('line_crossing', 'plan_line_crossing') AND ts >= ? AND ts < ?",
        ...(doors.length ? [`SELECT id, ts, data FROM events WHERE type = 'door_count' AND ts >= ? AND ts < ? AND source IN (${doorList})`] : []),
      ].join(' UNION ALL ') + ' ORDER BY ts, id',
    )
    .iterate(historyFrom - 86_400_000, from, historyFrom, from, ...(doors.length ? [historyFrom, from, ...doors] : [])) as IterableIterator<{ data: string }>;
  const carry = foldKpiHistory(parseEach(history), settings, from);
  if (!carry.planEvents) carry.planEvents = db.prepare("SELECT 1 FROM events WHERE type IN ('plan_line_crossing', 'plan_zone_visit') AND ts >= ? AND ts < ? LIMIT 1").get(historyFrom, from) !== undefined;
  const types = KPI_EVENT_TYPES.filter((t) => t !== 'door_count').map((t) => `'${t}'`).join(', ');
  const select = db.prepare(`SELECT data FROM events WHERE ts >= ? AND ts < ? AND (type IN (${types})${doors.length ? ` OR (type = 'door_count' AND source IN (${doorList}))` : ''}) ORDER BY ts, id`);
  // The query starts with the first event asked for, and ends when the reader stops: a caller that
  // only wants the carry leaves no statement open on the connection.
  function* events(): Generator<StoreEvent> {
    yield* parseEach(select.iterate(from, to, ...doors) as IterableIterator<{ data: string }>);
  }
  return { events: events(), carry };
}

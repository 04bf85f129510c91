/**
 * Turns a batch of received MQTT messages into the rows one transaction writes. Pure.
 *
 * A batch may hold the same message twice (a re-delivery next to its original) or two revisions of
 * one KPI bin: PostgreSQL refuses an upsert that touches one row twice in a statement, so duplicates
 * are resolved here (first event per key, highest revision per bin, latest status per gateway).
 * Rows are sorted so that two workers writing overlapping batches lock rows in the same order and
 * cannot deadlock each other.
 */
import { createHash } from 'node:crypto';
import { classifyMessage, type AnnotationBody, type Classified, type EventBody, type JourneysBody, type KpiBody, type TimeWindow, DEFAULT_TIME_WINDOW } from './incomingMessage.js';

export interface ReceivedMessage {
  topic: string;
  payload: Uint8Array;
  /** Epoch ms when this worker received it. */
  receivedAt: number;
  /**
   * Its validation, when already done on arrival: the worker validates each message as it arrives,
   * while the previous batch is being written, so that validation and database time overlap.
   */
  classified?: Classified;
}

export interface EventRow {
  storeId: string;
  gatewayId: string;
  key: string;
  seq: number;
  type: EventBody['type'];
  time: Date;
  queuedAt: Date;
  data: EventBody;
}

export interface KpiRow {
  storeId: string;
  gatewayId: string;
  binSize: KpiBody['bin'];
  from: Date;
  to: Date;
  timeZone: string;
  revision: number;
  key: string;
  seq: number;
  queuedAt: Date;
  trafficIn: number;
  trafficOut: number;
  transactions: number;
  sales: number;
  kpis: KpiBody['kpis'];
}

/** A closed bin of journey aggregates: final when sent (no revisions), so the first copy stays. */
export interface JourneyRow {
  storeId: string;
  gatewayId: string;
  binSize: JourneysBody['bin'];
  from: Date;
  to: Date;
  timeZone: string;
  key: string;
  seq: number;
  queuedAt: Date;
  journeys: number;
  report: JourneysBody['journeys'];
}

/**
 * A change annotation, keyed by store, gateway, source (the gateway's database) and id. `deleted`
 * rows are tombstones: they win over the annotation whatever order the two arrive in.
 */
export interface AnnotationRow {
  storeId: string;
  gatewayId: string;
  source: string;
  id: number;
  key: string;
  seq: number;
  queuedAt: Date;
  annotation: AnnotationBody;
}

export interface StatusRow {
  storeId: string;
  gatewayId: string;
  state: 'online' | 'offline';
  reason: string | undefined;
  at: Date;
}

/** The newest data message of a gateway in this batch: the fleet view's "last message" and delivery lag. */
export interface ActivityRow {
  storeId: string;
  gatewayId: string;
  lastSeq: number;
  lastQueuedAt: Date;
  lastReceivedAt: Date;
}

export interface DeadLetterRow {
  /** sha256 of topic and payload: a re-delivered bad message counts as another delivery, not another row. */
  digest: Buffer;
  topic: string;
  payload: Buffer;
  reason: string;
  receivedAt: Date;
  deliveries: number;
}

export interface BatchPlan {
  events: EventRow[];
  kpiBins: KpiRow[];
  journeyBins: JourneyRow[];
  /** Annotations to insert (never replace: the gateway does not edit them). */
  annotations: AnnotationRow[];
  /** Tombstones: annotations removed on their gateway. */
  annotationTombstones: AnnotationRow[];
  statuses: StatusRow[];
  activity: ActivityRow[];
  deadLetters: DeadLetterRow[];
  /** Messages in the batch (each is acknowledged once the plan is committed). */
  received: number;
}

const gatewayKey = (r: { storeId: string; gatewayId: string }): string => `${r.storeId}\u0000${r.gatewayId}`;
const byGateway = (a: { storeId: string; gatewayId: string }, b: { storeId: string; gatewayId: string }): number =>
  a.storeId < b.storeId ? -1 : a.storeId > b.storeId ? 1 : a.gatewayId < b.gatewayId ? -1 : a.gatewayId > b.gatewayId ? 1 : 0;
const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function planBatch(messages: readonly ReceivedMessage[], topicRoot: string, now: number, window: TimeWindow = DEFAULT_TIME_WINDOW): BatchPlan {
  const events = new Map<string, EventRow>();
  const kpiBins = new Map<string, KpiRow>();
  const journeyBins = new Map<string, JourneyRow>();
  const annotations = new Map<string, AnnotationRow>();
  const statuses = new Map<string, StatusRow>();
  const activity = new Map<string, ActivityRow>();
  const deadLetters = new Map<string, DeadLetterRow>();

  for (const received of messages) {
    const result = received.classified ?? classifyMessage(received.topic, received.payload, topicRoot, now, window);
    if (!result.ok) {
      const row = deadLetterRow(received, result.reason);
      const id = row.digest.toString('hex');
      const seen = deadLetters.get(id);
      if (seen) seen.deliveries += 1;
      else deadLetters.set(id, row);
      continue;
    }
    const m = result.message;
    if (m.kind === 'status') {
      const seen = statuses.get(gatewayKey(m));
      if (!seen || seen.at <= m.at) statuses.set(gatewayKey(m), { storeId: m.storeId, gatewayId: m.gatewayId, state: m.state, reason: m.reason, at: m.at });
      continue;
    }
    const seenActivity = activity.get(gatewayKey(m));
    if (!seenActivity || seenActivity.lastSeq < m.seq) {
      activity.set(gatewayKey(m), { storeId: m.storeId, gatewayId: m.gatewayId, lastSeq: m.seq, lastQueuedAt: m.queuedAt, lastReceivedAt: new Date(received.receivedAt) });
    }
    if (m.kind === 'event') {
      if (!events.has(m.key)) {
        events.set(m.key, { storeId: m.storeId, gatewayId: m.gatewayId, key: m.key, seq: m.seq, type: m.event.type, time: m.time, queuedAt: m.queuedAt, data: m.event });
      }
      continue;
    }
    if (m.kind === 'journeys') {
      const id = `${gatewayKey(m)}\u0000${m.report.bin}\u0000${m.from.getTime()}`;
      if (!journeyBins.has(id)) {
        journeyBins.set(id, {
          storeId: m.storeId,
          gatewayId: m.gatewayId,
          binSize: m.report.bin,
          from: m.from,
          to: m.to,
          timeZone: m.report.time_zone,
          key: m.key,
          seq: m.seq,
          queuedAt: m.queuedAt,
          journeys: m.report.journeys.journeys,
          report: m.report.journeys,
        });
      }
      continue;
    }
    if (m.kind === 'annotation') {
      // One row per annotation per batch (an upsert may not touch a row twice): a tombstone replaces
      // the annotation it removes, a re-delivery changes nothing.
      const a = m.annotation;
      const id = `${gatewayKey(m)}\u0000${a.source}\u0000${a.id}`;
      const seen = annotations.get(id);
      if (!seen || (a.deleted && !seen.annotation.deleted)) {
        annotations.set(id, { storeId: m.storeId, gatewayId: m.gatewayId, source: a.source, id: a.id, key: m.key, seq: m.seq, queuedAt: m.queuedAt, annotation: a });
      }
      continue;
    }
    const binId = `${gatewayKey(m)}\u0000${m.bin.bin}\u0000${m.from.getTime()}`;
    const seen = kpiBins.get(binId);
    if (!seen || seen.revision < m.bin.revision) {
      const k = m.bin.kpis;
      kpiBins.set(binId, {
        storeId: m.storeId,
        gatewayId: m.gatewayId,
        binSize: m.bin.bin,
        from: m.from,
        to: m.to,
        timeZone: m.bin.time_zone,
        revision: m.bin.revision,
        key: m.key,
        seq: m.seq,
        queuedAt: m.queuedAt,
        trafficIn: k.traffic.in,
        trafficOut: k.traffic.out,
        transactions: k.transactions,
        sales: k.sales,
        kpis: k,
      });
    }
  }

  return {
    events: [...events.values()].sort((a, b) => compareStrings(a.key, b.key)),
    kpiBins: [...kpiBins.values()].sort((a, b) => byGateway(a, b) || compareStrings(a.binSize, b.binSize) || a.from.getTime() - b.from.getTime()),
    journeyBins: [...journeyBins.values()].sort((a, b) => byGateway(a, b) || compareStrings(a.binSize, b.binSize) || a.from.getTime() - b.from.getTime()),
    annotations: sortedAnnotations([...annotations.values()].filter((a) => !a.annotation.deleted)),
    annotationTombstones: sortedAnnotations([...annotations.values()].filter((a) => a.annotation.deleted)),
    statuses: [...statuses.values()].sort(byGateway),
    activity: [...activity.values()].sort(byGateway),
    deadLetters: [...deadLetters.values()].sort((a, b) => Buffer.compare(a.digest, b.digest)),
    received: messages.length,
  };
}

const sortedAnnotations = (rows: AnnotationRow[]): AnnotationRow[] => rows.sort((a, b) => byGateway(a, b) || compareStrings(a.source, b.source) || a.id - b.id);

export function deadLetterRow(received: ReceivedMessage, reason: string): DeadLetterRow {
  const payload = Buffer.from(received.payload);
  const digest = createHash('sha256').update(received.topic).update('\u0000').update(payload).digest();
  // The reason may quote the payload (a JSON parser's message does): control characters out, NUL
  // above all, which PostgreSQL's text refuses and which would make the dead letter itself fail.
  const cleanReason = [...reason.slice(0, 1000)].map((ch) => (ch.charCodeAt(0) < 0x20 || ch === '\u007f' ? ' ' : ch)).join('');
  return { digest, topic: received.topic, payload, reason: cleanReason, receivedAt: new Date(received.receivedAt), deliveries: 1 };
}

/** A plan that only records `rows` as dead letters (messages the database itself refused). */
export function deadLetterPlan(rows: DeadLetterRow[]): BatchPlan {
  return { events: [], kpiBins: [], journeyBins: [], annotations: [], annotationTombstones: [], statuses: [], activity: [], deadLetters: rows, received: rows.length };
}

/** First instants (UTC) of the months the plan's rows fall into, per partitioned table. */
export function monthsTouched(plan: BatchPlan): { events: Date[]; kpiBins: Date[]; journeyBins: Date[] } {
  const months = (dates: Date[]): Date[] => [...new Set(dates.map((d) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)))].sort((a, b) => a - b).map((ms) => new Date(ms));
  return { events: months(plan.events.map((e) => e.time)), kpiBins: months(plan.kpiBins.map((k) => k.from)), journeyBins: months(plan.journeyBins.map((j) => j.from)) };
}

/**
 * What goes upstream, shaped once when it enters the outbox: a topic below the gateway's prefix, an
 * idempotency key that stays the same on every re-delivery, and the body. The envelope (sequence
 * number, ids) is added at publish time from the outbox row, so a re-delivery is byte-identical.
 * Schemas: schemas/upstream/v1/*.schema.json.
 */
import type { StoreEvent } from '../kpi/events.js';
import type { KpiBin } from '../kpi/kpiEngine.js';
import type { BinSize } from '../kpi/timeBins.js';
import type { JourneyReport } from '../analytics/journeys/journeyAggregate.js';
import type { Annotation } from '../store/annotationStore.js';

export const TOPIC_VERSION = 'v1';

export type MessageKind = 'event' | 'metrics' | 'kpi' | 'journeys' | 'annotation';

export interface OutboxMessage {
  key: string;
  kind: MessageKind;
  /** Below storepulse/v1/<store>/<gateway>/. */
  topic: string;
  body: unknown;
}

export interface OutboxRow {
  seq: number;
  key: string;
  kind: MessageKind;
  topic: string;
  payload: string;
  created_at: number;
}

export interface GatewayIdentity {
  storeId: string;
  gatewayId: string;
  /** Random per database file: keeps keys unique if the file is ever replaced and ids restart. */
  databaseId: string;
}

export const topicPrefix = (root: string, id: Pick<GatewayIdentity, 'storeId' | 'gatewayId'>): string => `${root}/${TOPIC_VERSION}/${id.storeId}/${id.gatewayId}`;

export function eventMessage(event: StoreEvent, eventId: number, id: GatewayIdentity): OutboxMessage {
  return {
    key: `${id.gatewayId}:${id.databaseId.slice(0, 8)}:e${eventId}`,
    kind: 'event',
    topic: `events/${event.type}`,
    body: { id: eventId, time: new Date(event.ts).toISOString(), ...event },
  };
}

export function kpiMessage(size: BinSize, bin: KpiBin, revision: number, timeZone: string, id: GatewayIdentity): OutboxMessage {
  const kind: MessageKind = size === '1m' ? 'metrics' : 'kpi';
  return {
    key: `${id.gatewayId}:${size}:${bin.from}:r${revision}`,
    kind,
    topic: size === '1m' ? 'metrics/1m' : `kpis/${size}`,
    body: { bin: size, from: new Date(bin.from).toISOString(), to: new Date(bin.to).toISOString(), time_zone: timeZone, revision, kpis: bin },
  };
}

/**
 * One closed bin of journey aggregates (src/analytics/journeys): counts only, paths under the
 * minimum count folded into "other", no track ids. Bins are final when sent, so there are no revisions.
 */
export function journeysMessage(size: BinSize, bin: { from: number; to: number; report: JourneyReport }, timeZone: string, id: GatewayIdentity): OutboxMessage {
  return {
    key: `${id.gatewayId}:journeys:${size}:${bin.from}`,
    kind: 'journeys',
    topic: `journeys/${size}`,
    body: { bin: size, from: new Date(bin.from).toISOString(), to: new Date(bin.to).toISOString(), time_zone: timeZone, journeys: bin.report },
  };
}

/**
 * Change annotations ("display moved", "promo start") go to central so that head office can compare
 * stores before and after a change. `source` is the first 8 characters of the database id: the
 * gateway numbers its annotations (AUTOINCREMENT: a removed id is never given again), but a replaced
 * SQLite file starts again at 1, so central keys an annotation by store, gateway, source and id. Who wrote it (`created_by`, a user or token name)
 * stays on the gateway.
 */
const annotationKey = (annotationId: number, id: GatewayIdentity): string => `${id.gatewayId}:${id.databaseId.slice(0, 8)}:a${annotationId}`;

export function annotationMessage(a: Annotation, id: GatewayIdentity): OutboxMessage {
  return {
    key: annotationKey(a.id, id),
    kind: 'annotation',
    topic: 'annotations',
    body: {
      id: a.id,
      source: id.databaseId.slice(0, 8),
      deleted: false,
      time: new Date(a.ts).toISOString(),
      ts: a.ts,
      text: a.text,
      subject: a.subject,
      created_at: new Date(a.created_at).toISOString(),
    },
  };
}

/**
 * An annotation removed on the gateway. Its own key (not the annotation's): the outbox ignores a key
 * it already holds, and the annotation may still be waiting there when it is removed.
 */
export function annotationTombstone(annotationId: number, deletedAt: number, id: GatewayIdentity): OutboxMessage {
  return {
    key: `${annotationKey(annotationId, id)}:deleted`,
    kind: 'annotation',
    topic: 'annotations',
    body: { id: annotationId, source: id.databaseId.slice(0, 8), deleted: true, deleted_at: new Date(deletedAt).toISOString() },
  };
}

/** The published payload: the envelope every message shares around the stored body. */
export function envelope(row: OutboxRow, id: Pick<GatewayIdentity, 'storeId' | 'gatewayId'>): string {
  return `{"v":1,"key":${JSON.stringify(row.key)},"seq":${row.seq},"store_id":${JSON.stringify(id.storeId)},"gateway_id":${JSON.stringify(
    id.gatewayId,
  )},"kind":"${row.kind}","queued_at":"${new Date(row.created_at).toISOString()}","data":${row.payload}}`;
}

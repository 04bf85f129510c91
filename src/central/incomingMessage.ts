/**
 * What central accepts from the fleet: the upstream envelope (schemas/upstream/v1/) and the status
 * messages, validated with zod, and checked against the topic they arrived on (a gateway may only
 * speak for the store and gateway named in its topic). Pure: bytes in, a typed message or a reason out.
 */
import { z } from 'zod';
import { isValidTimeZone } from '../kpi/timeBins.js';
import { ANNOTATION_SUBJECT, MAX_ANNOTATION_TEXT } from '../store/annotationStore.js';

const isoTime = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);
const rate = z.number().min(0).nullable();
const inOut = z.object({ in: count, out: count }).strict();

const dwellStats = z.looseObject({
  visits: count,
  passes: count,
  engaged: count,
  dwell_mean_s: rate,
  dwell_p50_s: rate,
  dwell_p90_s: rate,
  bounce_rate: rate,
  visit_rate: rate,
});

const queueStats = z.looseObject({ length_mean: z.number().min(0), length_max: count, served: count, wait_mean_s: rate, wait_p90_s: rate });

const satisfaction = z.looseObject({ votes: z.number().int().min(1), score: z.number().min(0).max(1).nullable(), distribution: z.record(z.string(), z.number().int().min(1)) });

const kpisSchema = z
  .object({
    from: z.number().int(),
    to: z.number().int(),
    traffic: z.looseObject({ in: count, out: count, by_entrance: z.record(z.string(), inOut) }),
    staff: z.looseObject({ entries: count, present_mean: z.number().min(0), shopper_in: count, shoppers_per_staff: rate }).nullable(),
    occupancy: z.looseObject({ end: count, max: count }),
    lines: z.record(z.string(), inOut),
    zones: z.record(z.string(), dwellStats),
    queues: z.record(z.string(), queueStats),
    passers_by: count.nullable(),
    capture_rate: rate,
    transactions: count,
    sales: z.number(),
    conversion: rate,
    sales_per_visitor: z.number().nullable(),
    satisfaction: z.record(z.string(), satisfaction),
    // Store-level floor-plan lines and zones (gateways with a plan; kpi.schema.json), counted once over all cameras.
    plan: z.looseObject({ lines: z.record(z.string(), inOut), zones: z.record(z.string(), dwellStats), queues: z.record(z.string(), queueStats) }).optional(),
  })
  .strict();

const kpiData = z
  .object({
    bin: z.enum(['1m', '15m', '1h', '1d']),
    from: isoTime,
    to: isoTime,
    time_zone: z.string().refine(isValidTimeZone, 'not an IANA time zone'),
    revision: z.number().int().min(1),
    kpis: kpisSchema,
  })
  .strict();

const eventCommon = { id: z.number().int().min(1), time: isoTime, ts: z.number().int() };
// Events may carry more fields than listed (the schema allows it); the ones listed must be right.
const eventData = z.discriminatedUnion('type', [
  z.looseObject({ ...eventCommon, type: z.literal('line_crossing'), camera: z.string(), line: z.string(), direction: z.enum(['in', 'out']) }),
  z.looseObject({ ...eventCommon, type: z.literal('zone_visit'), camera: z.string(), zone: z.string(), enter_ts: z.number().int(), dwell_ms: z.number().min(0), counted: z.boolean() }),
  z.looseObject({ ...eventCommon, type: z.literal('door_count'), sensor: z.string(), in: count, out: count }),
  z.looseObject({ ...eventCommon, type: z.literal('pos_transaction'), register: z.string(), amount: z.number(), currency: z.string().optional(), items: count.optional() }),
  z.looseObject({ ...eventCommon, type: z.literal('feedback_vote'), terminal: z.string(), zone: z.string().optional(), score: z.number().int().min(1), scale: z.number().int().min(1) }),
  z.looseObject({ ...eventCommon, type: z.literal('staff_presence'), badge: z.string(), present: z.boolean() }),
  z.looseObject({ ...eventCommon, type: z.literal('beacon_presence'), beacon: z.string(), zone: z.string().optional(), present: z.boolean() }),
  z.looseObject({ ...eventCommon, type: z.literal('sensor_reading'), sensor: z.string(), value: z.number(), unit: z.string().optional() }),
  z.looseObject({ ...eventCommon, type: z.literal('plan_line_crossing'), line: z.string(), direction: z.enum(['in', 'out']) }),
  z.looseObject({ ...eventCommon, type: z.literal('plan_zone_visit'), zone: z.string(), enter_ts: z.number().int(), dwell_ms: z.number().min(0), counted: z.boolean() }),
]);

const share = z.number().min(0).nullable();
// Journey aggregates (journeys.schema.json): counts only. The parts central reads are checked
// strictly; the report is kept whole as jsonb.
const journeysData = z
  .object({
    bin: z.enum(['15m', '1h', '1d']),
    from: isoTime,
    to: isoTime,
    time_zone: z.string().refine(isValidTimeZone, 'not an IANA time zone'),
    journeys: z
      .object({
        journeys: count,
        states: z.array(z.string()),
        transitions: z.array(z.object({ from: z.string(), to: z.string(), count }).strict()),
        top_paths: z.array(z.object({ zones: z.array(z.string()).max(4), continues: z.boolean(), count }).strict()),
        other_paths: z.object({ paths: count, journeys: count }).strict(),
        min_path_count: z.number().int().min(1),
        funnel: z.array(z.object({ zone: z.string(), persons: count, person_conversion: share, units: count, unit_conversion: share }).strict()),
        buying_units: z.object({ units: count, persons: count, mean_size: share, sizes: z.array(z.object({ size: z.number().int().min(1), units: count }).strict()) }).strict(),
        conversion: z.object({ persons: share, units: share }).strict(),
        zones: z.array(z.object({ zone: z.string(), visits: count, dwell_s_mean: share }).strict()),
      })
      .strict(),
  })
  .strict();

// Change annotations (topic annotations): the gateway's own rules for text and subject, so central
// holds nothing a gateway would have refused. A removal is a tombstone with the same id and source.
const annotationId = { id: z.number().int().min(1), source: z.string().min(1).max(64) };
const annotationData = z.discriminatedUnion('deleted', [
  z
    .object({
      ...annotationId,
      deleted: z.literal(false),
      time: isoTime,
      ts: z.number().int(),
      text: z
        .string()
        .min(1)
        .max(MAX_ANNOTATION_TEXT)
        .refine((t) => ![...t].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f), 'must be one line without control characters'),
      subject: z.string().regex(ANNOTATION_SUBJECT, 'not store, zone:NAME, line:NAME or camera:ID').nullable(),
      created_at: isoTime,
    })
    .strict()
    .refine((a) => Date.parse(a.time) === a.ts, { message: 'time and ts disagree', path: ['ts'] }),
  z.object({ ...annotationId, deleted: z.literal(true), deleted_at: isoTime }).strict(),
]);

const envelopeCommon = {
  v: z.literal(1),
  key: z.string().min(1).max(500),
  seq: z.number().int().min(1),
  store_id: z.string().min(1),
  gateway_id: z.string().min(1),
  queued_at: isoTime,
};
const envelopeSchema = z.discriminatedUnion('kind', [
  z.object({ ...envelopeCommon, kind: z.literal('event'), data: eventData }).strict(),
  z.object({ ...envelopeCommon, kind: z.enum(['metrics', 'kpi']), data: kpiData }).strict(),
  z.object({ ...envelopeCommon, kind: z.literal('journeys'), data: journeysData }).strict(),
  z.object({ ...envelopeCommon, kind: z.literal('annotation'), data: annotationData }).strict(),
]);

const statusSchema = z
  .object({
    v: z.literal(1),
    store_id: z.string().min(1),
    gateway_id: z.string().min(1),
    state: z.enum(['online', 'offline']),
    reason: z.enum(['shutdown', 'connection lost']).optional(),
    at: isoTime,
  })
  .strict();

export type EventBody = z.infer<typeof eventData>;
export type KpiBody = z.infer<typeof kpiData>;
export type BinSize = KpiBody['bin'];
export type JourneysBody = z.infer<typeof journeysData>;
export type AnnotationBody = z.infer<typeof annotationData>;

interface Origin {
  storeId: string;
  gatewayId: string;
}

export interface DataOrigin extends Origin {
  key: string;
  seq: number;
  queuedAt: Date;
}

export type IncomingMessage =
  | (DataOrigin & { kind: 'event'; time: Date; event: EventBody })
  | (DataOrigin & { kind: 'kpi'; from: Date; to: Date; bin: KpiBody })
  | (DataOrigin & { kind: 'journeys'; from: Date; to: Date; report: JourneysBody })
  | (DataOrigin & { kind: 'annotation'; annotation: AnnotationBody })
  | (Origin & { kind: 'status'; state: 'online' | 'offline'; reason: string | undefined; at: Date });

export type Classified = { ok: true; message: IncomingMessage } | { ok: false; reason: string };

/** Timestamps outside this window are a gateway's broken clock or a forged message, not data. */
export interface TimeWindow {
  /** Nothing before this (epoch ms). */
  earliest: number;
  /** How far past the receiver's clock a timestamp may be (gateway clocks drift). */
  maxFutureMs: number;
}

export const DEFAULT_TIME_WINDOW: TimeWindow = { earliest: Date.UTC(2020, 0, 1), maxFutureMs: 2 * 86_400_000 };

/** An annotation's time is typed by a person and may announce a planned change ("promo starts Monday"). */
const ANNOTATION_MAX_AHEAD_MS = 366 * 86_400_000;

interface TopicParts extends Origin {
  /** Below storepulse/v1/<store>/<gateway>/. */
  rest: string;
}

/** `<root>/v1/<store>/<gateway>/<rest…>`, or undefined for anything else. */
export function parseTopic(topic: string, topicRoot: string): TopicParts | undefined {
  const prefix = `${topicRoot}/v1/`;
  if (!topic.startsWith(prefix)) return undefined;
  const [storeId, gatewayId, ...rest] = topic.slice(prefix.length).split('/');
  if (!storeId || !gatewayId || rest.length === 0 || rest.some((p) => p === '')) return undefined;
  return { storeId, gatewayId, rest: rest.join('/') };
}

const firstIssues = (error: z.ZodError): string =>
  error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');

function checkTime(label: string, ms: number, now: number, window: TimeWindow): string | undefined {
  if (ms < window.earliest) return `${label} ${new Date(ms).toISOString()} is before ${new Date(window.earliest).toISOString()}`;
  if (ms > now + window.maxFutureMs) return `${label} ${new Date(ms).toISOString()} is in the future`;
  return undefined;
}

/** Validates one MQTT message; never throws. `now` is the receiver's clock (epoch ms). */
export function classifyMessage(topic: string, payload: Uint8Array, topicRoot: string, now: number, window: TimeWindow = DEFAULT_TIME_WINDOW): Classified {
  const parts = parseTopic(topic, topicRoot);
  if (!parts) return { ok: false, reason: `unexpected topic (want ${topicRoot}/v1/<store>/<gateway>/…)` };
  let text: string;
  let json: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  // PostgreSQL's text and jsonb cannot hold NUL: refused here rather than failing the whole batch.
  if (text.includes('\\u0000')) return { ok: false, reason: 'contains a NUL character (\\u0000)' };
  if (parts.rest === 'status') return classifyStatus(parts, json, now, window);
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `invalid envelope: ${firstIssues(parsed.error)}` };
  const m = parsed.data;
  if (m.store_id !== parts.storeId || m.gateway_id !== parts.gatewayId) {
    return { ok: false, reason: `store_id/gateway_id ${m.store_id}/${m.gateway_id} do not match the topic's ${parts.storeId}/${parts.gatewayId}` };
  }
  const origin: DataOrigin = { storeId: m.store_id, gatewayId: m.gateway_id, key: m.key, seq: m.seq, queuedAt: new Date(m.queued_at) };
  if (m.kind === 'event') {
    if (parts.rest !== `events/${m.data.type}`) return { ok: false, reason: `an event of type ${m.data.type} on topic …/${parts.rest}` };
    const time = new Date(m.data.time);
    const bad = checkTime('event time', time.getTime(), now, window);
    if (bad) return { ok: false, reason: bad };
    return { ok: true, message: { ...origin, kind: 'event', time, event: m.data } };
  }
  if (m.kind === 'journeys') {
    if (parts.rest !== `journeys/${m.data.bin}`) return { ok: false, reason: `a journeys ${m.data.bin} bin on topic …/${parts.rest}` };
    const from = new Date(m.data.from);
    const to = new Date(m.data.to);
    if (!(to > from)) return { ok: false, reason: 'bin ends before it starts' };
    const bad = checkTime('bin start', from.getTime(), now, window);
    if (bad) return { ok: false, reason: bad };
    return { ok: true, message: { ...origin, kind: 'journeys', from, to, report: m.data } };
  }
  if (m.kind === 'annotation') return classifyAnnotation(parts, origin, m.data, now, window);
  const expectedTopic = m.data.bin === '1m' ? 'metrics/1m' : `kpis/${m.data.bin}`;
  const expectedKind = m.data.bin === '1m' ? 'metrics' : 'kpi';
  if (parts.rest !== expectedTopic || m.kind !== expectedKind) return { ok: false, reason: `a ${m.kind} ${m.data.bin} bin on topic …/${parts.rest}` };
  const from = new Date(m.data.from);
  const to = new Date(m.data.to);
  if (!(to > from)) return { ok: false, reason: 'bin ends before it starts' };
  const bad = checkTime('bin start', from.getTime(), now, window);
  if (bad) return { ok: false, reason: bad };
  return { ok: true, message: { ...origin, kind: 'kpi', from, to, bin: m.data } };
}

function classifyAnnotation(parts: TopicParts, origin: DataOrigin, a: AnnotationBody, now: number, window: TimeWindow): Classified {
  if (parts.rest !== 'annotations') return { ok: false, reason: `an annotation on topic …/${parts.rest}` };
  // The moment of a removal or a creation is the gateway's clock: the usual window. The annotated
  // time is a person's choice: a planned change may lie up to a year ahead.
  const bad = a.deleted
    ? checkTime('deleted_at', Date.parse(a.deleted_at), now, window)
    : (checkTime('created_at', Date.parse(a.created_at), now, window) ?? checkTime('annotation time', a.ts, now, { ...window, maxFutureMs: ANNOTATION_MAX_AHEAD_MS }));
  if (bad) return { ok: false, reason: bad };
  return { ok: true, message: { ...origin, kind: 'annotation', annotation: a } };
}

function classifyStatus(parts: TopicParts, json: unknown, now: number, window: TimeWindow): Classified {
  const parsed = statusSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `invalid status: ${firstIssues(parsed.error)}` };
  const s = parsed.data;
  if (s.store_id !== parts.storeId || s.gateway_id !== parts.gatewayId) return { ok: false, reason: 'status store_id/gateway_id do not match the topic' };
  const at = new Date(s.at);
  const bad = checkTime('status time', at.getTime(), now, window);
  if (bad) return { ok: false, reason: bad };
  return { ok: true, message: { kind: 'status', storeId: s.store_id, gatewayId: s.gateway_id, state: s.state, reason: s.reason, at } };
}

/**
 * Writes one batch plan in one PostgreSQL transaction: a statement per table with all its rows, so a batch of hundreds of messages costs a handful of round trips. Idempotent: events are
 * keyed by their idempotency key (a re-delivery changes nothing), a KPI bin is replaced only by a
 * higher revision, a gateway's status only by a newer one, a dead letter counts its deliveries.
 */
import type pg from 'pg';
import { monthsTouched, type BatchPlan } from './batchPlan.js';
import type { PartitionKeeper } from './monthPartitions.js';

export interface WriteResult {
  eventsInserted: number;
  /** KPI bins inserted or replaced by a higher revision. */
  binsWritten: number;
  journeyBinsInserted: number;
  /** Annotations inserted plus annotations marked deleted by a tombstone. */
  annotationsWritten: number;
  statusesApplied: number;
  /** Deliveries of refused messages recorded (a bad message sent twice counts twice). */
  deadLetters: number;
  /** Partitions this batch had to create. */
  partitionsCreated: string[];
}

// Rows travel as one JSON document per statement (jsonb_to_recordset): one JSON.stringify of the
// batch, parsed once by PostgreSQL, instead of a text array per column that the client escapes
// element by element (measured: the arrays cost more CPU in the worker than the whole validation).
const INSERT_EVENTS = `
  INSERT INTO events (store_id, gateway_id, key, seq, type, time, queued_at, data)
  SELECT store_id, gateway_id, key, seq, type, time, queued_at, data
  FROM jsonb_to_recordset($1::jsonb)
    AS r(store_id text, gateway_id text, key text, seq bigint, type text, time timestamptz, queued_at timestamptz, data jsonb)
  ON CONFLICT (key, time) DO NOTHING`;

const UPSERT_KPI_BINS = `
  INSERT INTO kpi_bins (store_id, gateway_id, bin_size, bin_from, bin_to, time_zone, revision, key, seq, queued_at,
                        traffic_in, traffic_out, transactions, sales, kpis)
  SELECT store_id, gateway_id, bin_size, bin_from, bin_to, time_zone, revision, key, seq, queued_at,
         traffic_in, traffic_out, transactions, sales, kpis
  FROM jsonb_to_recordset($1::jsonb)
    AS r(store_id text, gateway_id text, bin_size text, bin_from timestamptz, bin_to timestamptz, time_zone text, revision integer,
         key text, seq bigint, queued_at timestamptz, traffic_in integer, traffic_out integer, transactions integer,
         sales float8, kpis jsonb)
  ON CONFLICT (store_id, gateway_id, bin_size, bin_from) DO UPDATE SET
    bin_to = EXCLUDED.bin_to, time_zone = EXCLUDED.time_zone, revision = EXCLUDED.revision, key = EXCLUDED.key, seq = EXCLUDED.seq,
    queued_at = EXCLUDED.queued_at, ingested_at = now(), traffic_in = EXCLUDED.traffic_in, traffic_out = EXCLUDED.traffic_out,
    transactions = EXCLUDED.transactions, sales = EXCLUDED.sales, kpis = EXCLUDED.kpis
  WHERE kpi_bins.revision < EXCLUDED.revision`;

const INSERT_JOURNEY_BINS = `
  INSERT INTO journey_bins (store_id, gateway_id, bin_size, bin_from, bin_to, time_zone, key, seq, queued_at, journeys, report)
  SELECT store_id, gateway_id, bin_size, bin_from, bin_to, time_zone, key, seq, queued_at, journeys, report
  FROM jsonb_to_recordset($1::jsonb)
    AS r(store_id text, gateway_id text, bin_size text, bin_from timestamptz, bin_to timestamptz, time_zone text, key text, seq bigint,
         queued_at timestamptz, journeys integer, report jsonb)
  ON CONFLICT (store_id, gateway_id, bin_size, bin_from) DO NOTHING`;

// The gateway never edits an annotation: a re-delivery, or an annotation whose tombstone came first,
// changes nothing.
const INSERT_ANNOTATIONS = `
  INSERT INTO annotations (store_id, gateway_id, source, annotation_id, ts, text, subject, created_at, key, seq, queued_at)
  SELECT store_id, gateway_id, source, annotation_id, ts, text, subject, created_at, key, seq, queued_at
  FROM jsonb_to_recordset($1::jsonb)
    AS r(store_id text, gateway_id text, source text, annotation_id bigint, ts timestamptz, text text, subject text, created_at timestamptz,
         key text, seq bigint, queued_at timestamptz)
  ON CONFLICT (store_id, gateway_id, source, annotation_id) DO NOTHING`;

// A tombstone clears the note and keeps the first removal time (a re-delivery changes nothing).
const UPSERT_ANNOTATION_TOMBSTONES = `
  INSERT INTO annotations (store_id, gateway_id, source, annotation_id, deleted_at, key, seq, queued_at)
  SELECT store_id, gateway_id, source, annotation_id, deleted_at, key, seq, queued_at
  FROM jsonb_to_recordset($1::jsonb)
    AS r(store_id text, gateway_id text, source text, annotation_id bigint, deleted_at timestamptz, key text, seq bigint, queued_at timestamptz)
  ON CONFLICT (store_id, gateway_id, source, annotation_id) DO UPDATE SET
    ts = NULL, text = NULL, subject = NULL, created_at = NULL, deleted_at = EXCLUDED.deleted_at,
    key = EXCLUDED.key, seq = EXCLUDED.seq, queued_at = EXCLUDED.queued_at, ingested_at = now()
  WHERE annotations.deleted_at IS NULL`;

const UPSERT_ACTIVITY = `
  INSERT INTO gateways (store_id, gateway_id, last_seq, last_queued_at, last_message_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::timestamptz[])
  ON CONFLICT (store_id, gateway_id) DO UPDATE SET
    last_seq = GREATEST(gateways.last_seq, EXCLUDED.last_seq),
    last_queued_at = CASE WHEN gateways.last_seq IS NULL OR EXCLUDED.last_seq >= gateways.last_seq THEN EXCLUDED.last_queued_at ELSE gateways.last_queued_at END,
    last_message_at = GREATEST(gateways.last_message_at, EXCLUDED.last_message_at)`;

const UPSERT_STATUS = `
  INSERT INTO gateways (store_id, gateway_id, state, state_reason, state_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
  ON CONFLICT (store_id, gateway_id) DO UPDATE SET
    state = EXCLUDED.state, state_reason = EXCLUDED.state_reason, state_at = EXCLUDED.state_at
  WHERE gateways.state_at IS NULL OR gateways.state_at <= EXCLUDED.state_at`;

const UPSERT_DEAD_LETTERS = `
  INSERT INTO dead_letters (digest, topic, payload, reason, first_seen, last_seen, deliveries)
  SELECT d, t, p, r, s, s, n FROM unnest($1::bytea[], $2::text[], $3::bytea[], $4::text[], $5::timestamptz[], $6::integer[]) AS x(d, t, p, r, s, n)
  ON CONFLICT (digest) DO UPDATE SET
    last_seen = GREATEST(dead_letters.last_seen, EXCLUDED.last_seen), deliveries = dead_letters.deliveries + EXCLUDED.deliveries`;

export async function writeBatch(client: pg.ClientBase, plan: BatchPlan, partitions: PartitionKeeper): Promise<WriteResult> {
  const months = monthsTouched(plan);
  const partitionsCreated = [
    ...(await partitions.ensure(client, 'events', months.events)),
    ...(await partitions.ensure(client, 'kpi_bins', months.kpiBins)),
    ...(await partitions.ensure(client, 'journey_bins', months.journeyBins)),
  ];
  const result: WriteResult = { eventsInserted: 0, binsWritten: 0, journeyBinsInserted: 0, annotationsWritten: 0, statusesApplied: 0, deadLetters: plan.deadLetters.reduce((sum, d) => sum + d.deliveries, 0), partitionsCreated };
  await client.query('BEGIN');
  try {
    if (plan.events.length > 0) {
      const rows = plan.events.map((e) => ({
        store_id: e.storeId,
        gateway_id: e.gatewayId,
        key: e.key,
        seq: e.seq,
        type: e.type,
        time: e.time,
        queued_at: e.queuedAt,
        data: e.data,
      }));
      result.eventsInserted = (await client.query(INSERT_EVENTS, [JSON.stringify(rows)])).rowCount ?? 0;
    }
    if (plan.kpiBins.length > 0) {
      const rows = plan.kpiBins.map((k) => ({
        store_id: k.storeId,
        gateway_id: k.gatewayId,
        bin_size: k.binSize,
        bin_from: k.from,
        bin_to: k.to,
        time_zone: k.timeZone,
        revision: k.revision,
        key: k.key,
        seq: k.seq,
        queued_at: k.queuedAt,
        traffic_in: k.trafficIn,
        traffic_out: k.trafficOut,
        transactions: k.transactions,
        sales: k.sales,
        kpis: k.kpis,
      }));
      result.binsWritten = (await client.query(UPSERT_KPI_BINS, [JSON.stringify(rows)])).rowCount ?? 0;
    }
    if (plan.journeyBins.length > 0) {
      const rows = plan.journeyBins.map((j) => ({
        store_id: j.storeId,
        gateway_id: j.gatewayId,
        bin_size: j.binSize,
        bin_from: j.from,
        bin_to: j.to,
        time_zone: j.timeZone,
        key: j.key,
        seq: j.seq,
        queued_at: j.queuedAt,
        journeys: j.journeys,
        report: j.report,
      }));
      result.journeyBinsInserted = (await client.query(INSERT_JOURNEY_BINS, [JSON.stringify(rows)])).rowCount ?? 0;
    }
    if (plan.annotationTombstones.length > 0) {
      const rows = plan.annotationTombstones.map((t) => ({
        store_id: t.storeId,
        gateway_id: t.gatewayId,
        source: t.source,
        annotation_id: t.id,
        deleted_at: t.annotation.deleted ? t.annotation.deleted_at : null,
        key: t.key,
        seq: t.seq,
        queued_at: t.queuedAt,
      }));
      result.annotationsWritten += (await client.query(UPSERT_ANNOTATION_TOMBSTONES, [JSON.stringify(rows)])).rowCount ?? 0;
    }
    if (plan.annotations.length > 0) {
      const rows = plan.annotations.flatMap(({ annotation: a, ...r }) =>
        a.deleted
          ? []
          : [{ store_id: r.storeId, gateway_id: r.gatewayId, source: r.source, annotation_id: r.id, ts: a.time, text: a.text, subject: a.subject, created_at: a.created_at, key: r.key, seq: r.seq, queued_at: r.queuedAt }],
      );
      result.annotationsWritten += (await client.query(INSERT_ANNOTATIONS, [JSON.stringify(rows)])).rowCount ?? 0;
    }
    if (plan.activity.length > 0) {
      const a = plan.activity;
      await client.query(UPSERT_ACTIVITY, [a.map((x) => x.storeId), a.map((x) => x.gatewayId), a.map((x) => x.lastSeq), a.map((x) => x.lastQueuedAt), a.map((x) => x.lastReceivedAt)]);
    }
    if (plan.statuses.length > 0) {
      const s = plan.statuses;
      const r = await client.query(UPSERT_STATUS, [s.map((x) => x.storeId), s.map((x) => x.gatewayId), s.map((x) => x.state), s.map((x) => x.reason ?? null), s.map((x) => x.at)]);
      result.statusesApplied = r.rowCount ?? 0;
    }
    if (plan.deadLetters.length > 0) {
      const d = plan.deadLetters;
      await client.query(UPSERT_DEAD_LETTERS, [
        d.map((x) => x.digest),
        d.map((x) => x.topic),
        d.map((x) => x.payload),
        d.map((x) => x.reason),
        d.map((x) => x.receivedAt),
        d.map((x) => x.deliveries),
      ]);
    }
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * The analytics REST API (v1): stored events, stored KPI bins (the 1-minute aggregates and the
 * closed 15 min / hour / day bins) and KPIs computed on demand from the events for any period, each
 * filterable by camera, line and zone, as JSON or CSV (`format=csv`). Times are ISO 8601 or epoch ms.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { eventSource, STORE_EVENT_TYPES, type StoreEventType } from '../../kpi/events.js';
import { foldKpis } from '../../kpi/kpiEngine.js';
import { EVENT_COLUMNS, eventColumns, filterBin, kpiRows, toCsv, type SubjectFilter } from '../../kpi/kpiTable.js';
import { BIN_SIZES, binStart, formatLocal, nextBinStart, type BinSize } from '../../kpi/timeBins.js';
import { kpiSettings, type DataStore } from '../../store/dataStore.js';
import type { Gateway } from '../gateway.js';
import { ApiError } from './httpServer.js';

const MAX_EVENTS = 10_000;
/** On-demand KPIs read raw events: a bounded period keeps a request from stalling the gateway. */
const MAX_KPI_PERIOD_MS = 31 * 86_400_000;

interface PeriodQuery {
  from?: string;
  to?: string;
  format?: 'json' | 'csv';
  camera?: string;
  line?: string;
  zone?: string;
}

const periodProperties = {
  from: { type: 'string' },
  to: { type: 'string' },
  format: { type: 'string', enum: ['json', 'csv'] },
  camera: { type: 'string' },
  line: { type: 'string' },
  zone: { type: 'string' },
} as const;

/** Times the API takes: 1970-01-01 to 9999-12-31 (beyond ±8.64e15 ms a Date cannot even be formatted). */
const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new ApiError(400, 'bad_time', `${name} must be ISO 8601 (2026-11-23T09:00:00+01:00) or epoch milliseconds, got "${value}"`);
  if (ms < 0 || ms > MAX_TIME_MS) throw new ApiError(400, 'bad_time', `${name} must be between 1970-01-01 and 9999-12-31, got "${value}"`);
  return ms;
}

function period(q: PeriodQuery, defaultFrom: number, now: number): { from: number; to: number } {
  const from = parseTime(q.from, 'from') ?? defaultFrom;
  const to = parseTime(q.to, 'to') ?? now;
  if (to <= from) throw new ApiError(400, 'bad_period', '`to` must be after `from`');
  return { from, to };
}

export function requireStore(gateway: Gateway): DataStore {
  const store = gateway.store;
  if (!store) throw new ApiError(503, 'store_unavailable', gateway.mode === 'safe' ? 'the gateway is in safe mode (invalid configuration): storage is off' : 'storage is not open');
  return store;
}

export function sendCsv(reply: FastifyReply, name: string, body: string): FastifyReply {
  return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(body);
}

export function registerDataRoutes(app: FastifyInstance, gateway: Gateway, now: () => number): void {
  app.get<{ Querystring: PeriodQuery & { type?: string; source?: string; after_id?: number; limit?: number } }>(
    '/api/v1/events',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { ...periodProperties, type: { type: 'string' }, source: { type: 'string' }, after_id: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: MAX_EVENTS } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const store = requireStore(gateway);
      const { from, to } = period(q, now() - 3_600_000, now() + 1);
      const types = q.type?.split(',') as StoreEventType[] | undefined;
      const unknown = types?.filter((t) => !STORE_EVENT_TYPES.includes(t));
      if (unknown?.length) throw new ApiError(400, 'bad_type', `unknown event type ${unknown.join(', ')}; known: ${STORE_EVENT_TYPES.join(', ')}`);
      const limit = q.limit ?? MAX_EVENTS;
      let rows = store.events.query({ from, to, types, source: q.source ?? q.camera, subject: q.line ?? q.zone, afterId: q.after_id, limit: limit + 1 });
      const more = rows.length > limit;
      rows = rows.slice(0, limit);
      const tz = gateway.config.timezone;
      if (q.format === 'csv') {
        return sendCsv(
          reply,
          'events',
          toCsv(
            ['id', 'time', 'type', 'source', 'subject', ...EVENT_COLUMNS],
            rows.map((r) => {
              const e = r.event as { line?: string; zone?: string };
              return [r.id, formatLocal(r.event.ts, tz), r.event.type, eventSource(r.event), e.line ?? e.zone ?? '', ...eventColumns(r.event)];
            }),
          ),
        );
      }
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), events: rows.map((r) => ({ id: r.id, time: new Date(r.event.ts).toISOString(), ...r.event })), more };
    },
  );

  app.get<{ Querystring: PeriodQuery & { size?: BinSize } }>(
    '/api/v1/aggregates',
    { schema: { querystring: { type: 'object', properties: { ...periodProperties, size: { type: 'string', enum: [...BIN_SIZES] } }, additionalProperties: false } } },
    async (request, reply) => {
      const q = request.query;
      const store = requireStore(gateway);
      const size = q.size ?? '1m';
      const { from, to } = period(q, now() - 3_600_000, now() + 1);
      const bins = store.recorder.bins(size, from, to).map((b) => ({ ...b, kpis: filterBin(b.kpis, q) }));
      if (q.format === 'csv') return sendCsv(reply, `aggregates-${size}`, kpiCsv(bins.map((b) => b.kpis), gateway.config.timezone));
      return { size, bins: bins.map((b) => ({ from: new Date(b.bin).toISOString(), revision: b.revision, kpis: b.kpis })) };
    },
  );

  app.get<{ Querystring: PeriodQuery & { bin?: BinSize } }>(
    '/api/v1/kpis',
    { schema: { querystring: { type: 'object', properties: { ...periodProperties, bin: { type: 'string', enum: [...BIN_SIZES] } }, additionalProperties: false } } },
    async (request, reply) => {
      const q = request.query;
      const store = requireStore(gateway);
      store.events.flush();
      const settings = kpiSettings(gateway.config);
      const size = q.bin ?? '1h';
      const dayStart = binStart(now(), '1d', settings.timeZone);
      const requested = period(q, dayStart, nextBinStart(now(), '1d', settings.timeZone));
      if (requested.to - requested.from > MAX_KPI_PERIOD_MS) throw new ApiError(400, 'period_too_long', 'at most 31 days per request; use /api/v1/aggregates for longer periods');
      // The day before `from` folded, not read whole (issue 15): today's bins no longer hold yesterday's events since its opening.
      // Bins are whole: a period starting inside a bin reads that bin from its start.
      const input = store.events.kpiInput(binStart(requested.from, size, settings.timeZone), requested.to, settings);
      const bins = foldKpis(input.events, settings, { ...requested, size }, input.carry).map((b) => filterBin(b, q as SubjectFilter));
      if (q.format === 'csv') return sendCsv(reply, `kpis-${size}`, kpiCsv(bins, settings.timeZone));
      return { bin: size, time_zone: settings.timeZone, bins: bins.map((b) => ({ ...b, from: formatLocal(b.from, settings.timeZone), to: formatLocal(b.to, settings.timeZone) })) };
    },
  );
}

function kpiCsv(bins: Parameters<typeof kpiRows>[0][], timeZone: string): string {
  return toCsv(
    ['bin_start', 'bin_end', 'metric', 'subject', 'value'],
    bins.flatMap((b) => kpiRows(b).map((r) => [formatLocal(r.from, timeZone), formatLocal(r.to, timeZone), r.metric, r.subject, r.value])),
  );
}

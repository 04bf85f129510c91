/**
 * Central's REST API for head office: the fleet's gateways, the correlation of hourly footfall with
 * sales per store, the stores ranked by conversion, the gateways' change annotations and the
 * before/after comparison of the stores that made a change; JSON, or CSV with `format=csv`. Every route
 * but /healthz and the dashboard's files (/fleet/, fleetPage.ts) needs `Authorization: Bearer <token>`
 * (http.tokens in the central config).
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { authenticate } from '../gateway/http/apiAuth.js';
import { toCsv } from '../kpi/kpiTable.js';
import { fleetAnnotations, fleetImpact, MAX_IMPACT_DAYS, TooManyWindowsError } from './fleetImpact.js';
import { registerFleetPage, isFleetPageUrl } from './fleetPage.js';
import { conversionRanking, fleetGateways, footfallSalesCorrelation } from './fleetQueries.js';
import { IMPACT_CSV_COLUMNS, impactCsvRows } from './impactMaths.js';

/** Longest period one analytics request may cover: a query over years belongs in SQL, not the API. */
export const MAX_PERIOD_DAYS = 400;

export interface FleetApiOptions {
  db: pg.Pool;
  tokens: readonly { name: string; token: string }[];
  metrics: Registry;
}

type Period = { ok: true; from: Date; to: Date } | { ok: false; error: string };

/** `from` and `to` (ISO 8601), required, from before to, at most MAX_PERIOD_DAYS apart. Pure. */
export function parsePeriod(query: { from?: unknown; to?: unknown }): Period {
  const parse = (name: string, value: unknown): Date | string => {
    if (typeof value !== 'string' || value === '') return `${name} is required (ISO 8601, e.g. 2026-09-01 or 2026-09-01T00:00:00Z)`;
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? `${name} is not a date: ${value}` : d;
  };
  const from = parse('from', query.from);
  const to = parse('to', query.to);
  if (typeof from === 'string') return { ok: false, error: from };
  if (typeof to === 'string') return { ok: false, error: to };
  if (!(to > from)) return { ok: false, error: 'to must be after from' };
  if (to.getTime() - from.getTime() > MAX_PERIOD_DAYS * 86_400_000) return { ok: false, error: `at most ${MAX_PERIOD_DAYS} days per request` };
  return { ok: true, from, to };
}

export const DEFAULT_IMPACT_DAYS = 28;
const MAX_MATCH_LENGTH = 200;

type ImpactQuery = { ok: true; match: string; days: number; from?: Date; to?: Date } | { ok: false; error: string };

/**
 * `match` (text to find in annotations, or a subject), `days` on either side (default 28), and
 * optionally `from`/`to` (ISO 8601): only annotations of that period count (a store's first one in
 * it is the change compared). Pure.
 */
export function parseImpactQuery(query: { match?: unknown; days?: unknown; from?: unknown; to?: unknown }): ImpactQuery {
  const match = typeof query.match === 'string' ? query.match.trim() : '';
  if (match === '') return { ok: false, error: 'match is required: text to find in the annotations (e.g. promo) or a subject (e.g. zone:entrance)' };
  if (match.length > MAX_MATCH_LENGTH) return { ok: false, error: `match must be at most ${MAX_MATCH_LENGTH} characters` };
  let days = DEFAULT_IMPACT_DAYS;
  if (query.days !== undefined && query.days !== '') {
    days = typeof query.days === 'string' && /^\d+$/.test(query.days) ? Number(query.days) : NaN;
    if (!(days >= 1 && days <= MAX_IMPACT_DAYS)) return { ok: false, error: `days must be a whole number from 1 to ${MAX_IMPACT_DAYS}, not "${String(query.days)}"` };
  }
  const bound = (name: string, value: unknown): Date | undefined | string => {
    if (value === undefined || value === '') return undefined;
    const d = typeof value === 'string' ? new Date(value) : new Date(NaN);
    return Number.isNaN(d.getTime()) ? `${name} is not a date: ${String(value)}` : d;
  };
  const from = bound('from', query.from);
  const to = bound('to', query.to);
  if (typeof from === 'string') return { ok: false, error: from };
  if (typeof to === 'string') return { ok: false, error: to };
  if (from && to && !(to > from)) return { ok: false, error: 'to must be after from' };
  return { ok: true, match, days, ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

function send<T extends object>(reply: FastifyReply, format: unknown, rows: T[], columns: readonly (keyof T & string)[]): FastifyReply {
  if (format === 'csv') {
    return reply.type('text/csv; charset=utf-8').send(toCsv(columns, rows.map((r) => columns.map((c) => r[c] as string | number | null))));
  }
  return reply.send(rows);
}

export function buildFleetApi(options: FleetApiOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/healthz' || isFleetPageUrl(request.url.split('?')[0]!)) return;
    if (!authenticate(request.headers.authorization, options.tokens)) await reply.code(401).send({ error: 'missing or wrong bearer token' });
  });
  app.get('/healthz', async () => ({ ok: true }));
  registerFleetPage(app);
  app.get('/metrics', async (_request, reply) => reply.type(options.metrics.contentType).send(await options.metrics.metrics()));

  app.get<{ Querystring: { format?: string } }>('/api/v1/fleet/gateways', async (request, reply) =>
    send(reply, request.query.format, await fleetGateways(options.db), ['store_id', 'gateway_id', 'state', 'state_reason', 'state_at', 'last_message_at', 'last_seq', 'delivery_lag_s']),
  );

  app.get<{ Querystring: { from?: string; to?: string; format?: string } }>('/api/v1/fleet/correlation', async (request, reply) => {
    const period = parsePeriod(request.query);
    if (!period.ok) return reply.code(400).send({ error: period.error });
    return send(reply, request.query.format, await footfallSalesCorrelation(options.db, period.from, period.to), ['store_id', 'hours', 'pearson', 'spearman']);
  });

  app.get<{ Querystring: { from?: string; to?: string; format?: string } }>('/api/v1/fleet/conversion', async (request, reply) => {
    const period = parsePeriod(request.query);
    if (!period.ok) return reply.code(400).send({ error: period.error });
    return send(reply, request.query.format, await conversionRanking(options.db, period.from, period.to), [
      'rank',
      'store_id',
      'traffic_in',
      'transactions',
      'sales',
      'conversion',
      'sales_per_visitor',
    ]);
  });

  app.get<{ Querystring: { from?: string; to?: string; format?: string } }>('/api/v1/fleet/annotations', async (request, reply) => {
    const period = parsePeriod(request.query);
    if (!period.ok) return reply.code(400).send({ error: period.error });
    return send(reply, request.query.format, await fleetAnnotations(options.db, period.from, period.to), ['time', 'store_id', 'gateway_id', 'id', 'text', 'subject', 'created_at']);
  });

  app.get<{ Querystring: { match?: string; days?: string; from?: string; to?: string; format?: string } }>('/api/v1/fleet/impact', async (request, reply) => {
    const q = parseImpactQuery(request.query);
    if (!q.ok) return reply.code(400).send({ error: q.error });
    try {
      const report = await fleetImpact(options.db, q.match, q.days, { from: q.from, to: q.to });
      if (request.query.format === 'csv') return reply.type('text/csv; charset=utf-8').send(toCsv(IMPACT_CSV_COLUMNS, impactCsvRows(report)));
      return reply.send(report);
    } catch (err) {
      if (err instanceof TooManyWindowsError) return reply.code(400).send({ error: err.message });
      throw err;
    }
  });
  return app;
}

/**
 * Central's REST API for head office: the fleet's gateways, the correlation of hourly footfall with
 * sales per store, and the stores ranked by conversion; JSON, or CSV with `format=csv`. Every route
 * but /healthz and the dashboard's files (/fleet/, fleetPage.ts) needs `Authorization: Bearer <token>`
 * (http.tokens in the central config).
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { authenticate } from '../gateway/http/apiAuth.js';
import { toCsv } from '../kpi/kpiTable.js';
import { registerFleetPage, isFleetPageUrl } from './fleetPage.js';
import { conversionRanking, fleetGateways, footfallSalesCorrelation } from './fleetQueries.js';

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
  return app;
}

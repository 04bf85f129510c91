/**
 * Change annotations (`/api/v1/annotations`: "display moved", "promo start") and the before/after
 * impact of a change on a zone or a line (`/api/v1/impact`), over the gateway's SQLite file. Same
 * conventions as the data API: bearer token or web session (writing needs an installer), errors as
 * { error: { code, message } }, times ISO 8601 or epoch ms, `format=csv` for spreadsheets.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { ImpactInputError, changeWindow, parseChangeTime } from '../../analytics/impact/changeWindow.js';
import { analyzeImpact, UnknownSubjectError, type ImpactReport } from '../../analytics/impact/impactAnalysis.js';
import { IMPACT_CSV_COLUMNS, impactCsvRows, impactReportJson } from '../../analytics/impact/impactFormat.js';
import { parseSubject, parseSubjects } from '../../analytics/impact/impactSubjects.js';
import { toCsv } from '../../kpi/kpiTable.js';
import { formatLocal } from '../../kpi/timeBins.js';
import { AnnotationError, AnnotationStore, MAX_ANNOTATION_TEXT, type Annotation } from '../../store/annotationStore.js';
import { kpiSettings, type DataStore } from '../../store/dataStore.js';
import { hourlyKpiHistory } from '../../store/hourlyKpiHistory.js';
import type { WebAuth } from '../../web/webAuth.js';
import type { GatewayContext } from '../context.js';
import type { Gateway } from '../gateway.js';
import { apiTokens, authenticate } from './apiAuth.js';
import { parseTime, requireStore, sendCsv } from './dataRoutes.js';
import { ApiError } from './httpServer.js';

const DAY = 86_400_000;
/** Each side's weeks: a quarter either way keeps a request to a few thousand hourly bins. */
export const MAX_IMPACT_WEEKS = 13;
const MAX_ANNOTATIONS = 1000;

function annotationJson(a: Annotation, timeZone: string) {
  return { id: a.id, time: formatLocal(a.ts, timeZone), text: a.text, subject: a.subject, created_by: a.created_by, created_at: new Date(a.created_at).toISOString() };
}

/** Annotations written through the API also go to central (queued in the gateway's outbox with the change). */
const publishingAnnotations = (store: DataStore): AnnotationStore => new AnnotationStore(store.db, { outbox: store.outbox, identity: () => store.identity() });

const REJECTED_METRIC = 'storepulse_impact_requests_rejected_total';

/** Refused impact questions and annotations, by route and error code (one counter per registry: servers may be rebuilt on it). */
function rejectedCounter(ctx: GatewayContext): Counter<'route' | 'code'> {
  const existing = ctx.metrics.registry.getSingleMetric(REJECTED_METRIC);
  if (existing) return existing as Counter<'route' | 'code'>;
  return new Counter({ name: REJECTED_METRIC, help: 'Impact and annotation requests refused as invalid (bad subject, date, text)', labelNames: ['route', 'code'], registers: [ctx.metrics.registry] });
}

export function registerImpactRoutes(app: FastifyInstance, gateway: Gateway, ctx: GatewayContext, webAuth: WebAuth): void {
  const rejected = rejectedCounter(ctx);
  /** Who wrote an annotation: the token's name, else the web user (the auth hook let one of them in). */
  const author = (request: FastifyRequest): string | undefined => {
    const token = authenticate(request.headers.authorization, apiTokens(gateway.config));
    return token ? `token:${token}` : webAuth.session(request)?.username;
  };

  app.get<{ Querystring: { subject: string; change: string; weeks?: number; control?: string; format?: 'json' | 'csv' } }>(
    '/api/v1/impact',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['subject', 'change'],
          properties: {
            subject: { type: 'string', maxLength: 200 },
            change: { type: 'string', maxLength: 40 },
            weeks: { type: 'integer', minimum: 1, maximum: MAX_IMPACT_WEEKS },
            control: { type: 'string', maxLength: 1000 },
            format: { type: 'string', enum: ['json', 'csv'] },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const store = requireStore(gateway);
      store.events.flush();
      const settings = kpiSettings(gateway.config);
      let report: ImpactReport;
      try {
        const subject = parseSubject(q.subject);
        const controls = parseSubjects(q.control);
        const change = parseChangeTime(q.change, settings.timeZone);
        const weeks = q.weeks ?? 4;
        const window = changeWindow(change, weeks, settings.timeZone);
        // Stored hourly bins only: recomputing weeks from raw events would stall the cameras (the CLI does it).
        const history = hourlyKpiHistory(store.db, window, settings, { fromEvents: false });
        report = analyzeImpact(history.bins, { subject, controls, change, weeks, timeZone: settings.timeZone, now: ctx.now() });
      } catch (err) {
        if (!(err instanceof ImpactInputError)) throw err;
        const code = err instanceof UnknownSubjectError ? 'unknown_subject' : 'bad_impact_query';
        rejected.inc({ route: 'impact', code });
        ctx.log.warn({ err: err.message, subject: q.subject, change: q.change }, 'impact request refused');
        throw new ApiError(code === 'unknown_subject' ? 404 : 400, code, err.message);
      }
      if (q.format === 'csv') return sendCsv(reply, 'impact', toCsv([...IMPACT_CSV_COLUMNS], impactCsvRows(report)));
      const annotations = new AnnotationStore(store.db).list({ from: report.before.from, to: report.after.to, subject: report.subject, limit: MAX_ANNOTATIONS });
      return impactReportJson(report, annotations);
    },
  );

  app.get<{ Querystring: { from?: string; to?: string; subject?: string; format?: 'json' | 'csv' } }>(
    '/api/v1/annotations',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { from: { type: 'string' }, to: { type: 'string' }, subject: { type: 'string', maxLength: 200 }, format: { type: 'string', enum: ['json', 'csv'] } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const store = requireStore(gateway);
      const tz = gateway.config.timezone;
      const from = parseTime(q.from, 'from') ?? ctx.now() - 90 * DAY;
      const to = parseTime(q.to, 'to') ?? ctx.now() + 90 * DAY;
      if (to <= from) throw new ApiError(400, 'bad_period', '`to` must be after `from`');
      const rows = new AnnotationStore(store.db).list({ from, to, subject: q.subject, limit: MAX_ANNOTATIONS });
      if (q.format === 'csv') {
        return sendCsv(reply, 'annotations', toCsv(['id', 'time', 'text', 'subject'], rows.map((a) => [a.id, formatLocal(a.ts, tz), a.text, a.subject ?? ''])));
      }
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), annotations: rows.map((a) => annotationJson(a, tz)) };
    },
  );

  app.post<{ Body: { time: string | number; text: string; subject?: string } }>(
    '/api/v1/annotations',
    {
      schema: {
        body: {
          type: 'object',
          required: ['time', 'text'],
          properties: {
            time: { type: ['string', 'integer'] },
            // Room for surrounding spaces; the store checks the trimmed length.
            text: { type: 'string', maxLength: MAX_ANNOTATION_TEXT + 100 },
            subject: { type: 'string', maxLength: 200 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const store = requireStore(gateway);
      const body = request.body;
      try {
        const ts = parseTime(String(body.time), 'time')!;
        const annotation = publishingAnnotations(store).add({ ts, text: body.text, subject: body.subject, createdBy: author(request) }, ctx.now());
        ctx.log.info({ id: annotation.id, subject: annotation.subject }, 'annotation added');
        return reply.status(201).send(annotationJson(annotation, gateway.config.timezone));
      } catch (err) {
        const refused = err instanceof AnnotationError ? new ApiError(400, 'bad_annotation', err.message) : err instanceof ApiError ? err : undefined;
        if (!refused) throw err;
        rejected.inc({ route: 'annotations', code: refused.code });
        ctx.log.warn({ err: refused.message }, 'annotation refused');
        throw refused;
      }
    },
  );

  app.delete<{ Params: { id: string } }>('/api/v1/annotations/:id', async (request, reply) => {
    const store = requireStore(gateway);
    const id = Number(request.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new ApiError(400, 'bad_id', `annotation ids are positive integers, got "${request.params.id}"`);
    if (!publishingAnnotations(store).remove(id, ctx.now())) throw new ApiError(404, 'unknown_annotation', `no annotation ${id}`);
    ctx.log.info({ id }, 'annotation deleted');
    return reply.status(204).send();
  });
}

/**
 * GET /api/v1/journeys: customer journeys over the plan zones per bin — transition matrix, top paths
 * (only those taken by at least journeys.min_path_count people in the bin), funnel per person and per
 * buying unit, buying-unit sizes, visits and dwell per zone. JSON or CSV (`format=csv`), same time
 * parameters and error shape as the rest of the analytics API (dataRoutes.ts). Counts only: no
 * track ids, no per-person times.
 */
import type { FastifyInstance } from 'fastify';
import { journeyReportRows } from '../../analytics/journeys/journeyAggregate.js';
import { toCsv } from '../../kpi/kpiTable.js';
import { BIN_SIZES, binStart, formatLocal, nextBinStart, type BinSize } from '../../kpi/timeBins.js';
import type { Gateway } from '../gateway.js';
import { parseTime, sendCsv } from './dataRoutes.js';
import { ApiError } from './httpServer.js';

/** Journey bins are kept 8 days; a bounded period also bounds the work of one request. */
const MAX_PERIOD_MS = 31 * 86_400_000;
const MAX_BINS = 2000;

interface JourneyQuery {
  from?: string;
  to?: string;
  bin?: BinSize;
  format?: 'json' | 'csv';
}

export function registerJourneyRoutes(app: FastifyInstance, gateway: Gateway, now: () => number): void {
  app.get<{ Querystring: JourneyQuery }>(
    '/api/v1/journeys',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { from: { type: 'string' }, to: { type: 'string' }, bin: { type: 'string', enum: [...BIN_SIZES] }, format: { type: 'string', enum: ['json', 'csv'] } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const journeys = gateway.journeys;
      if (!journeys.enabled) {
        const why = gateway.mode === 'safe' ? 'the gateway is in safe mode (invalid configuration)' : 'journeys are not configured: add plan zones and a journeys section to the config (docs/journeys.md)';
        throw new ApiError(404, 'journeys_off', why);
      }
      const timeZone = gateway.config.timezone;
      const size = q.bin ?? '1h';
      const from = parseTime(q.from, 'from') ?? binStart(now(), '1d', timeZone);
      const to = parseTime(q.to, 'to') ?? nextBinStart(now(), '1d', timeZone);
      if (to <= from) throw new ApiError(400, 'bad_period', '`to` must be after `from`');
      if (to - from > MAX_PERIOD_MS) throw new ApiError(400, 'period_too_long', 'at most 31 days per request');
      const binMs = { '1m': 60_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 }[size];
      if ((to - from) / binMs > MAX_BINS) throw new ApiError(400, 'too_many_bins', `at most ${MAX_BINS} bins per request: use a larger bin`);
      const bins = journeys.report(from, to, size) ?? [];
      if (q.format === 'csv') {
        const rows = bins.flatMap((b) => journeyReportRows(b.report).map((r) => [formatLocal(b.from, timeZone), formatLocal(b.to, timeZone), r.section, r.subject, r.metric, r.value]));
        return sendCsv(reply, `journeys-${size}`, toCsv(['bin_start', 'bin_end', 'section', 'subject', 'metric', 'value'], rows));
      }
      return { bin: size, time_zone: timeZone, bins: bins.map((b) => ({ from: formatLocal(b.from, timeZone), to: formatLocal(b.to, timeZone), ...b.report })) };
    },
  );
}

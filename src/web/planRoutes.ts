/**
 * The web UI's floor-plan page API: the store-level (plan) lines and zones with each calibrated
 * camera's footprint and the live fused counts, saving the plan's lines and zones (installers; the
 * same config edit path as a camera's scene: one schema, atomic write, applied by a reload that
 * restarts fusion on the new plan), and today's store-level KPIs of the plan lines and zones for the
 * dashboard.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { cameraFootprint, type PlanBounds } from '../fusion/cameraFootprint.js';
import { computePlanKpis } from '../fusion/planKpis.js';
import type { GatewayConfig } from '../gateway/config/configSchema.js';
import type { Gateway } from '../gateway/gateway.js';
import { parseTime, requireStore } from '../gateway/http/dataRoutes.js';
import { ApiError } from '../gateway/http/httpServer.js';
import { binStart, formatLocal, nextBinStart } from '../kpi/timeBins.js';
import { kpiSettings } from '../store/dataStore.js';
import { CalibrationError } from '../vision/homography.js';
import type { PlanSceneResponse } from './apiTypes.js';
import { ConfigEditError, editConfig } from './configEditor.js';
import type { WebAuth } from './webAuth.js';

/** Far more than a store needs; a bound keeps one request from making a huge config. */
const MAX_ITEMS = 200;
/** Without a floor plan the page still needs a size: everything known on it plus a margin, at least this. */
const MIN_PLAN_M = 10;
const MARGIN_M = 2;
/** Plan KPIs read raw events, like /api/v1/kpis: a bounded period keeps a request from stalling the gateway. */
const MAX_PERIOD_MS = 31 * 86_400_000;

/** The plan's size: the configured floor plan, else what the calibrations and plan items reach. */
export function planBounds(config: GatewayConfig): PlanBounds {
  if (config.floor_plan) return { width_m: config.floor_plan.width_m, height_m: config.floor_plan.height_m };
  const points: (readonly [number, number])[] = [
    ...config.cameras.flatMap((c) => c.calibration?.plan_points ?? []),
    ...(config.plan?.lines ?? []).flatMap((l) => l.points),
    ...(config.plan?.zones ?? []).flatMap((z) => z.polygon),
  ];
  const reach = (i: 0 | 1) => Math.max(MIN_PLAN_M, Math.ceil(Math.max(0, ...points.map((p) => p[i])) + MARGIN_M));
  return { width_m: reach(0), height_m: reach(1) };
}

function planScene(gateway: Gateway): PlanSceneResponse {
  const config = gateway.config;
  const bounds = planBounds(config);
  const fusion = gateway.fusion.status();
  return {
    floor_plan: config.floor_plan ?? null,
    bounds,
    lines: config.plan?.lines ?? [],
    zones: config.plan?.zones ?? [],
    cameras: config.cameras.map((c) => {
      if (!c.calibration) return { id: c.id, name: c.name ?? c.id, enabled: c.enabled, calibrated: false, footprint: [], error: null };
      try {
        return { id: c.id, name: c.name ?? c.id, enabled: c.enabled, calibrated: true, footprint: cameraFootprint(c.id, c.calibration, bounds), error: null };
      } catch (err) {
        if (!(err instanceof CalibrationError)) throw err;
        return { id: c.id, name: c.name ?? c.id, enabled: c.enabled, calibrated: true, footprint: [], error: `calibration unusable: ${err.message}` };
      }
    }),
    fusion: { enabled: fusion.enabled, cameras: fusion.cameras, people: fusion.people, counts: fusion.counts, occupancy: fusion.occupancy },
  };
}

function replyWithEditError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof ConfigEditError) return reply.status(err.status).send({ error: { code: 'invalid_config', message: err.message, details: err.errors } });
  throw err;
}

export function registerPlanRoutes(app: FastifyInstance, gateway: Gateway, auth: WebAuth, now: () => number): void {
  app.get('/ui/api/plan/scene', { config: { role: 'viewer' } }, async () => planScene(gateway));

  app.put<{ Body: { lines: unknown[]; zones: unknown[] } }>(
    '/ui/api/plan/scene',
    {
      config: { role: 'installer' },
      schema: {
        body: {
          type: 'object',
          required: ['lines', 'zones'],
          properties: { lines: { type: 'array', maxItems: MAX_ITEMS }, zones: { type: 'array', maxItems: MAX_ITEMS } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const { lines, zones } = request.body;
      try {
        // Only the plan's lines and zones change: its fusion settings (and comments) stay as written.
        const saved = await editConfig(gateway, 'plan lines and zones', (doc) => {
          doc.setIn(['plan', 'lines'], doc.createNode(lines));
          doc.setIn(['plan', 'zones'], doc.createNode(zones));
        });
        request.log.info({ by: auth.session(request)?.username, lines: lines.length, zones: zones.length }, 'web UI: plan lines and zones saved');
        return { saved: true, ...saved, scene: planScene(gateway) };
      } catch (err) {
        return replyWithEditError(reply, err);
      }
    },
  );

  app.get<{ Querystring: { from?: string; to?: string } }>(
    '/ui/api/plan/kpis',
    { config: { role: 'viewer' }, schema: { querystring: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' } }, additionalProperties: false } } },
    async (request) => {
      const store = requireStore(gateway);
      store.events.flush();
      const settings = kpiSettings(gateway.config);
      const t = now();
      const from = parseTime(request.query.from, 'from') ?? binStart(t, '1d', settings.timeZone);
      const to = parseTime(request.query.to, 'to') ?? nextBinStart(t, '1d', settings.timeZone);
      if (to <= from) throw new ApiError(400, 'bad_period', '`to` must be after `from`');
      if (to - from > MAX_PERIOD_MS) throw new ApiError(400, 'period_too_long', 'at most 31 days per request');
      // A visit is stored when it ends: every visit overlapping the period ends at or after `from`.
      const events = store.events.planEvents(from, to);
      const plan = gateway.config.plan;
      const kpis = computePlanKpis(events, { from, to, now: t }, { lines: plan?.lines.map((l) => l.name) ?? [], zones: plan?.zones.map((z) => z.name) ?? [] });
      const fusion = gateway.fusion.status();
      return {
        time_zone: settings.timeZone,
        from: formatLocal(kpis.from, settings.timeZone),
        to: formatLocal(kpis.to, settings.timeZone),
        fusion: { enabled: fusion.enabled, people_now: fusion.people },
        lines: kpis.lines,
        zones: Object.fromEntries(Object.entries(kpis.zones).map(([name, z]) => [name, { ...z, occupancy_now: fusion.occupancy[name] ?? null }])),
      };
    },
  );
}

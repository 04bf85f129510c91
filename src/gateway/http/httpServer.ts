/**
 * The gateway's HTTP API: health and readiness for the supervisor, /metrics for Prometheus, and
 * token-protected JSON status, counts and the analytics API (dataRoutes.ts). `buildServer` returns an app that is not listening yet, so
 * tests use `inject()`. With the gateway's TLS on (the default) it is HTTPS only on http.port, with
 * HSTS; plain HTTP only with `tls.mode: off`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import type { Gateway } from '../gateway.js';
import { apiTokens, authenticate } from './apiAuth.js';
import { clientErrorHandler } from './clientErrors.js';
import { registerDataRoutes } from './dataRoutes.js';
import { registerJourneyRoutes } from './journeyRoutes.js';
import { registerImpactRoutes } from './impactRoutes.js';
import { registerSensorRoutes } from './sensorRoutes.js';
import { routePath, WebAuth } from '../../web/webAuth.js';
import { registerWebRoutes } from '../../web/webRoutes.js';

const HSTS_MAX_AGE_S = 31_536_000;

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function buildServer(gateway: Gateway, ctx: GatewayContext): FastifyInstance {
  const tls = gateway.tls;
  // Fastify types an HTTPS app apart from an HTTP one; routes and hooks are the same for both.
  // A request the HTTP parser refuses is answered with `Connection: close` and its connection closed (clientErrors.ts).
  const options = { logger: false, clientErrorHandler: clientErrorHandler(ctx.log) } as const;
  const app = (tls ? Fastify({ ...options, https: { cert: tls.cert, key: tls.key } }) : Fastify(options)) as unknown as FastifyInstance;
  if (tls) {
    // Browsers that once reached the gateway over HTTPS never try plain HTTP (and its cookies) again.
    app.addHook('onSend', async (_request, reply) => {
      void reply.header('strict-transport-security', `max-age=${HSTS_MAX_AGE_S}`);
    });
  }

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = err instanceof ApiError ? err.statusCode : err.statusCode ?? 500;
    if (status >= 500) ctx.log.error({ err: err.message, url: request.url }, 'API error');
    void reply.status(status).send({ error: { code: err.code ?? 'internal_error', message: err.message } });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url}` } });
  });

  // Everything under /api needs a token; health, readiness and metrics stay open for supervisors
  // and Prometheus on the store network (they carry no counts per person and no configuration).
  const webAuth = new WebAuth(() => gateway.config, ctx.now);
  webAuth.install(app);
  app.decorate('webAuth', webAuth);
  app.addHook('onRequest', async (request, reply) => {
    // By the matched route: a percent-encoded letter (`/%61pi/status`) or an absolute-form target
    // (`GET http://host/api/status`) reaches an /api route without the raw URL starting with "/api/".
    if (!routePath(request).startsWith('/api/')) return;
    if (authenticate(request.headers.authorization, apiTokens(gateway.config))) return;
    // The web UI calls the API with its session cookie: reading needs a viewer, changing an installer.
    const session = webAuth.session(request);
    if (session && WebAuth.allows(session, request.method === 'GET' || request.method === 'HEAD' ? 'viewer' : 'installer')) return;
    ctx.metrics.apiAuthFailures.inc();
    return reply
      .status(401)
      .header('www-authenticate', 'Bearer realm="storepulse"')
      .send({ error: { code: 'unauthorized', message: 'send "Authorization: Bearer <token>" (api.tokens in the config, or the generated data_dir/api-token)' } });
  });

  app.get('/healthz', async () => ({ status: 'ok', mode: gateway.mode }));

  app.get('/readyz', async (_request, reply) => {
    const readiness = gateway.readiness();
    return reply.status(readiness.ready ? 200 : 503).send(readiness);
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.header('content-type', ctx.metrics.registry.contentType).send(body);
  });

  app.get('/api/status', async () => gateway.status());

  app.get('/api/cameras', async () => gateway.status().cameras);

  app.get<{ Params: { id: string } }>('/api/cameras/:id', async (request) => {
    const camera = gateway.camera(request.params.id);
    if (!camera) throw new ApiError(404, 'unknown_camera', `no running camera "${request.params.id}"`);
    return camera;
  });

  /** Counts since start, per camera: line crossings by direction and zone occupancy and visits. */
  app.get('/api/counts', async () => {
    const cameras = Object.fromEntries(gateway.status().cameras.map((c) => [c.id, { state: c.source.state, lines: c.lines, zones: c.zones }]));
    return { store_id: gateway.config.store_id, gateway_id: gateway.config.gateway_id, cameras };
  });

  app.get<{ Querystring: { after?: string } }>(
    '/api/events',
    { schema: { querystring: { type: 'object', properties: { after: { type: 'integer', minimum: 0 } }, additionalProperties: false } } },
    async (request) => ({ events: gateway.recentEvents(Number(request.query.after ?? 0)) }),
  );

  app.post('/api/config/reload', async () => {
    await gateway.reload();
    return gateway.status().config;
  });

  registerDataRoutes(app, gateway, ctx.now);
  registerJourneyRoutes(app, gateway, ctx.now);
  registerImpactRoutes(app, gateway, ctx, webAuth);
  registerSensorRoutes(app, gateway);
  registerWebRoutes(app, gateway, ctx, webAuth);

  return app;
}

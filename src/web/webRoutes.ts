/**
 * The installer web UI: the browser app (static files built into dist/web) and its API under
 * /ui/api. Roles: `viewer` sees live views, heatmaps, validations and dashboards; `installer` also
 * edits lines, zones and calibration, runs validations and manages accounts.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Document } from 'yaml';
import type { GatewayContext } from '../gateway/context.js';
import type { Gateway } from '../gateway/gateway.js';
import { ApiError } from '../gateway/http/httpServer.js';
import { PROJECT_ROOT } from '../projectPaths.js';
import { pointInPolygon } from '../vision/geometry.js';
import { applyHomography, CalibrationError, computeHomography, isProperMapping, reprojectionError, type Pt } from '../vision/homography.js';
import { writeFileAtomic } from '../common/atomicFile.js';
import { clearedCookie, sessionCookie } from './auth/sessions.js';
import { SetupCode } from './auth/setupCode.js';
import { ROLES, UserError, type Role } from './auth/users.js';
import { cameraIndex, ConfigEditError, editConfig } from './configEditor.js';
import { registerPlanRoutes } from './planRoutes.js';
import type { PixelateMode } from './liveFrames.js';
import { ValidationRuns } from './validationRuns.js';
import { WebAuth } from './webAuth.js';

export const WEB_ROOT = path.join(PROJECT_ROOT, 'dist', 'web');
const STATIC: Record<string, string> = { '/': 'index.html', '/app.js': 'app.js', '/app.css': 'app.css' };
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const MAX_PLAN_BYTES = 5 * 1024 * 1024;

const point = { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 } as const;

/** The image format by its signature: PNG (89 50 4E 47 0D 0A 1A 0A) or JPEG (FF D8 FF), else undefined. */
function imageKind(data: Buffer): 'png' | 'jpg' | undefined {
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpg';
  return undefined;
}

/** Answers the errors an edit or an account change can raise with 4xx/5xx; anything else is rethrown. */
function replyWithEditError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof ConfigEditError) return reply.status(err.status).send({ error: { code: 'invalid_config', message: err.message, details: err.errors } });
  if (err instanceof UserError || err instanceof CalibrationError) return reply.status(400).send({ error: { code: 'invalid', message: err.message } });
  throw err;
}

export function registerWebRoutes(app: FastifyInstance, gateway: Gateway, ctx: GatewayContext, auth: WebAuth): void {
  auth.sessions.log = ctx.log;
  const validations = new ValidationRuns(gateway.config.data_dir, (camera, line) => gateway.camera(camera)?.lines[line], ctx.now);
  // An HTTPS server takes no plain connections, so its cookies are always Secure (inject() included).
  const secure = (request: FastifyRequest) => gateway.tls !== undefined || request.protocol === 'https';

  // ---- the app itself (no data in it: it is public like a login page)
  for (const [url, file] of Object.entries(STATIC)) {
    app.get(url, async (_request, reply) => {
      const full = path.join(WEB_ROOT, file);
      if (!existsSync(full)) return reply.status(503).type('text/plain').send('the web UI is not built: run `npm run build`');
      return reply
        .type(TYPES[path.extname(file)]!)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; frame-ancestors 'none'")
        .header('x-content-type-options', 'nosniff')
        .send(await readFile(full));
    });
  }

  // ---- first run: claimed with the setup code from the box (log or data_dir/setup-code)
  const setupCode = new SetupCode(ctx.log);
  const dataDir = () => gateway.config.data_dir;
  const ensureSetupCode = (): void => {
    try {
      if (auth.users.needsSetup) setupCode.ensure(dataDir());
      else setupCode.erase(dataDir()); // a leftover from an interrupted setup
    } catch (err) {
      ctx.log.error({ err: (err as Error).message }, 'web UI: cannot write the first-run setup code');
    }
  };
  ensureSetupCode();

  // ---- sessions
  app.get('/ui/api/session', { config: { role: 'public' } }, async (request) => {
    const session = auth.session(request);
    if (auth.users.needsSetup) ensureSetupCode(); // the data_dir may have changed since the start
    return { setup_needed: auth.users.needsSetup, user: session ? { username: session.username, role: session.role } : null, store_id: gateway.config.store_id };
  });

  const credentials = {
    type: 'object',
    required: ['password'],
    properties: { username: { type: 'string', maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 256 } },
    additionalProperties: false,
  } as const;

  const tooManyAttempts = (reply: FastifyReply, wait: number, what: string) =>
    reply
      .status(429)
      .header('retry-after', Math.ceil(wait / 1000))
      .send({ error: { code: 'too_many_attempts', message: `too many ${what}: try again in ${Math.ceil(wait / 60_000)} min` } });
  let settingUp = false;

  app.post<{ Body: { password: string; setup_code?: string } }>(
    '/ui/api/setup',
    {
      config: { role: 'public' },
      schema: {
        body: {
          type: 'object',
          required: ['password'],
          properties: { password: credentials.properties.password, setup_code: { type: 'string', maxLength: 64 } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      if (!auth.users.needsSetup) return reply.status(409).send({ error: { code: 'already_set_up', message: 'the admin password is already set: log in' } });
      const address = request.ip;
      const wait = auth.setupLimiter.retryAfterMs(address);
      if (wait > 0) return tooManyAttempts(reply, wait, 'wrong setup codes');
      setupCode.ensure(dataDir()); // after a data_dir change, or if the file could not be written at start
      const where = "it is printed in the gateway's log and in data_dir/setup-code";
      const typed = request.body.setup_code ?? '';
      if (typed.trim() === '') return reply.status(403).send({ error: { code: 'setup_code_required', message: `enter the setup code: ${where}` } });
      if (!setupCode.matches(dataDir(), typed)) {
        auth.setupLimiter.failed(address);
        ctx.metrics.apiAuthFailures.inc();
        ctx.log.warn({ address }, 'web UI: wrong first-run setup code');
        return reply.status(403).send({ error: { code: 'bad_setup_code', message: `wrong setup code: ${where}` } });
      }
      if (settingUp) return reply.status(409).send({ error: { code: 'setup_in_progress', message: 'the admin password is being set: log in' } });
      settingUp = true;
      try {
        await auth.users.create('admin', request.body.password, 'installer');
      } catch (err) {
        return replyWithEditError(reply, err);
      } finally {
        settingUp = false;
      }
      setupCode.erase(dataDir());
      auth.setupLimiter.succeeded(address);
      ctx.log.info('web UI: admin password set (the setup code is erased)');
      return reply.header('set-cookie', sessionCookie(auth.sessions.create('admin', 'installer'), secure(request))).send({ user: { username: 'admin', role: 'installer' } });
    },
  );

  app.post<{ Body: { username?: string; password: string } }>('/ui/api/login', { config: { role: 'public' }, schema: { body: credentials } }, async (request, reply) => {
    const address = request.ip;
    const wait = auth.limiter.retryAfterMs(address);
    if (wait > 0) return tooManyAttempts(reply, wait, 'failed logins');
    const username = request.body.username ?? 'admin';
    const role = await auth.users.verify(username, request.body.password);
    if (!role) {
      auth.limiter.failed(address);
      ctx.metrics.apiAuthFailures.inc();
      ctx.log.warn({ username, address }, 'web UI: failed login');
      return reply.status(401).send({ error: { code: 'bad_credentials', message: 'wrong user name or password' } });
    }
    auth.limiter.succeeded(address);
    if (auth.users.needsUpgrade(username)) {
      // A hash from an older, cheaper cost: replaced now that the password is known to be right.
      try {
        await auth.users.upgradeHash(username, request.body.password);
        ctx.log.info({ username }, 'web UI: password hash upgraded to the current scrypt cost');
      } catch (err) {
        ctx.log.warn({ username, err: (err as Error).message }, 'web UI: cannot upgrade the password hash (kept the old one)');
      }
    }
    return reply.header('set-cookie', sessionCookie(auth.sessions.create(username, role), secure(request))).send({ user: { username, role } });
  });

  app.post('/ui/api/logout', { config: { role: 'public' } }, async (request, reply) => {
    auth.sessions.end(WebAuth.token(request));
    return reply.header('set-cookie', clearedCookie(secure(request))).send({ ok: true });
  });

  // ---- own password: needs the current one; every other session of the user ends
  app.post<{ Body: { current_password: string; new_password: string } }>(
    '/ui/api/account/password',
    {
      config: { role: 'viewer' },
      schema: {
        body: {
          type: 'object',
          required: ['current_password', 'new_password'],
          properties: { current_password: credentials.properties.password, new_password: credentials.properties.password },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const address = request.ip;
      const wait = auth.limiter.retryAfterMs(address);
      if (wait > 0) return tooManyAttempts(reply, wait, 'failed logins');
      const { username } = auth.session(request)!;
      if (!(await auth.users.verify(username, request.body.current_password))) {
        auth.limiter.failed(address);
        ctx.metrics.apiAuthFailures.inc();
        ctx.log.warn({ username, address }, 'web UI: wrong current password on a password change');
        return reply.status(403).send({ error: { code: 'bad_credentials', message: 'the current password is wrong' } });
      }
      auth.limiter.succeeded(address);
      try {
        await auth.users.setPassword(username, request.body.new_password);
      } catch (err) {
        return replyWithEditError(reply, err);
      }
      const ended = auth.sessions.endUser(username, WebAuth.token(request));
      ctx.log.info({ username, ended_sessions: ended }, 'web UI: password changed; the other sessions of this user ended');
      return { ok: true, ended_sessions: ended };
    },
  );

  // ---- accounts (installers)
  app.get('/ui/api/users', { config: { role: 'installer' } }, async () => ({ users: auth.users.list() }));
  app.post<{ Body: { username: string; password: string; role: Role } }>(
    '/ui/api/users',
    {
      config: { role: 'installer' },
      schema: { body: { type: 'object', required: ['username', 'password', 'role'], properties: { username: { type: 'string' }, password: { type: 'string' }, role: { type: 'string', enum: [...ROLES] } }, additionalProperties: false } },
    },
    async (request, reply) => {
      try {
        await auth.users.create(request.body.username, request.body.password, request.body.role);
      } catch (err) {
        return replyWithEditError(reply, err);
      }
      return { users: auth.users.list() };
    },
  );
  app.delete<{ Params: { username: string } }>('/ui/api/users/:username', { config: { role: 'installer' } }, async (request, reply) => {
    if (auth.users.role(request.params.username) === undefined) throw new ApiError(404, 'unknown_user', `no user "${request.params.username}"`);
    try {
      await auth.users.remove(request.params.username);
    } catch (err) {
      return replyWithEditError(reply, err);
    }
    auth.sessions.endUser(request.params.username);
    return { users: auth.users.list() };
  });
  // An installer sets another account's password (a forgotten one): that user's sessions end, except
  // the installer's own when it is their own account.
  app.put<{ Params: { username: string }; Body: { password: string } }>(
    '/ui/api/users/:username/password',
    {
      config: { role: 'installer' },
      schema: { body: { type: 'object', required: ['password'], properties: { password: credentials.properties.password }, additionalProperties: false } },
    },
    async (request, reply) => {
      const { username } = request.params;
      if (auth.users.role(username) === undefined) throw new ApiError(404, 'unknown_user', `no user "${username}"`);
      try {
        await auth.users.setPassword(username, request.body.password);
      } catch (err) {
        return replyWithEditError(reply, err);
      }
      const by = auth.session(request)?.username;
      const ended = auth.sessions.endUser(username, by === username ? WebAuth.token(request) : undefined);
      ctx.log.info({ username, by, ended_sessions: ended }, 'web UI: password set by an installer; that user is logged out elsewhere');
      return { ok: true, ended_sessions: ended };
    },
  );

  // ---- live view
  const cameraConfig = (id: string) => {
    const camera = gateway.config.cameras.find((c) => c.id === id);
    if (!camera) throw new ApiError(404, 'unknown_camera', `no camera "${id}"`);
    return camera;
  };

  app.get('/ui/api/cameras', { config: { role: 'viewer' } }, async () => ({
    cameras: gateway.config.cameras.map((c) => ({ id: c.id, name: c.name ?? c.id, state: gateway.camera(c.id)?.source.state ?? 'off' })),
  }));

  app.get<{ Params: { id: string }; Querystring: { mode?: PixelateMode } }>(
    '/ui/api/cameras/:id/frame.jpg',
    { config: { role: 'viewer' }, schema: { querystring: { type: 'object', properties: { mode: { type: 'string', enum: ['privacy', 'people'] } }, additionalProperties: false } } },
    async (request, reply) => {
      cameraConfig(request.params.id);
      const mode = request.query.mode ?? 'privacy';
      if (mode !== 'privacy' && auth.session(request)?.role !== 'installer') throw new ApiError(403, 'forbidden', 'only installers may lower the pixelation');
      const jpeg = await gateway.live.jpeg(request.params.id, mode);
      if (!jpeg) return reply.status(202).header('retry-after', '1').send({ waiting: 'no frame yet: the camera starts sending them now' });
      return reply.type('image/jpeg').header('cache-control', 'no-store').send(jpeg);
    },
  );

  app.get<{ Params: { id: string } }>('/ui/api/cameras/:id/live', { config: { role: 'viewer' } }, async (request) => {
    const config = cameraConfig(request.params.id);
    const snapshot = gateway.camera(request.params.id);
    const live = gateway.live.tracks(request.params.id);
    return {
      id: config.id,
      name: config.name ?? config.id,
      state: snapshot?.source.state ?? 'off',
      fps: snapshot?.fps ?? null,
      frame: snapshot?.frame ?? null,
      lines: config.lines,
      zones: config.zones,
      counts: { lines: snapshot?.lines ?? {}, zones: snapshot?.zones ?? {} },
      tracks: live?.tracks ?? [],
      calibration: config.calibration ?? null,
    };
  });

  app.get<{ Params: { id: string } }>('/ui/api/cameras/:id/heatmap', { config: { role: 'viewer' } }, async (request) => {
    const config = cameraConfig(request.params.id);
    const grid = gateway.heatmap(request.params.id);
    if (!grid) return { grid: null, plan: null };
    let plan: { cells: { x: number; y: number; value: number }[] } | null = null;
    if (config.calibration) {
      // Each cell's centre placed on the plan (metres) through the calibration.
      const h = computeHomography(config.calibration.image_points as Pt[], config.calibration.plan_points as Pt[]);
      // Only the floor the installer calibrated: cells outside its four points (walls, far aisles)
      // are not on that plane and would land anywhere on the plan.
      const floor = config.calibration.image_points.map(([x, y]) => ({ x, y }));
      const cells: { x: number; y: number; value: number }[] = [];
      grid.personSeconds.forEach((value, i) => {
        if (value <= 0) return;
        const centre: Pt = [((i % grid.cols) + 0.5) / grid.cols, (Math.floor(i / grid.cols) + 0.5) / grid.rows];
        if (!pointInPolygon({ x: centre[0], y: centre[1] }, floor)) return;
        const [x, y] = applyHomography(h, centre);
        if (Number.isFinite(x) && Number.isFinite(y)) cells.push({ x: Math.round(x * 100) / 100, y: Math.round(y * 100) / 100, value });
      });
      plan = { cells };
    }
    return { grid, plan };
  });

  // ---- drawing lines and zones
  app.put<{ Params: { id: string }; Body: { lines: unknown[]; zones: unknown[] } }>(
    '/ui/api/cameras/:id/scene',
    { config: { role: 'installer' }, schema: { body: { type: 'object', required: ['lines', 'zones'], properties: { lines: { type: 'array' }, zones: { type: 'array' } }, additionalProperties: false } } },
    async (request, reply) => {
      try {
        const saved = await editConfig(gateway, `lines and zones of camera ${request.params.id}`, (doc: Document) => {
          const i = cameraIndex(doc, request.params.id);
          doc.setIn(['cameras', i, 'lines'], doc.createNode(request.body.lines));
          doc.setIn(['cameras', i, 'zones'], doc.createNode(request.body.zones));
        });
        ctx.log.info({ camera: request.params.id, by: auth.session(request)?.username, lines: request.body.lines.length, zones: request.body.zones.length }, 'web UI: scene saved');
        return { saved: true, ...saved, camera: cameraConfig(request.params.id) };
      } catch (err) {
        return replyWithEditError(reply, err);
      }
    },
  );

  // ---- calibration and floor plan
  app.get('/ui/api/plan', { config: { role: 'viewer' } }, async () => ({ plan: gateway.config.floor_plan ?? null }));

  app.get('/ui/api/plan/image', { config: { role: 'viewer' } }, async (_request, reply) => {
    const image = gateway.config.floor_plan?.image;
    if (!image) throw new ApiError(404, 'no_plan_image', 'no floor plan image uploaded');
    const data = await readFile(path.resolve(gateway.config.data_dir, image));
    return reply.type(image.endsWith('.png') ? 'image/png' : 'image/jpeg').send(data);
  });

  app.addContentTypeParser(['image/png', 'image/jpeg'], { parseAs: 'buffer', bodyLimit: MAX_PLAN_BYTES }, (_request, body, done) => done(null, body));
  app.put<{ Body: Buffer; Querystring: { width_m: number; height_m: number } }>(
    '/ui/api/plan/image',
    {
      config: { role: 'installer' },
      bodyLimit: MAX_PLAN_BYTES,
      schema: { querystring: { type: 'object', required: ['width_m', 'height_m'], properties: { width_m: { type: 'number', exclusiveMinimum: 0 }, height_m: { type: 'number', exclusiveMinimum: 0 } } } },
    },
    async (request, reply) => {
      // Only a PNG or JPEG body (any other content type was parsed as JSON or refused with 415), and
      // only what really is one: the file's own signature decides, not the header.
      if (!Buffer.isBuffer(request.body)) throw new ApiError(415, 'unsupported_media_type', 'send the floor plan as image/png or image/jpeg');
      const kind = imageKind(request.body);
      if (!kind) throw new ApiError(400, 'not_an_image', 'the body is not a PNG or JPEG image');
      const name = `floor-plan.${kind}`;
      await writeFileAtomic(path.resolve(gateway.config.data_dir, name), request.body);
      try {
        return await editConfig(gateway, 'floor plan', (doc) => doc.set('floor_plan', doc.createNode({ width_m: request.query.width_m, height_m: request.query.height_m, image: name })));
      } catch (err) {
        return replyWithEditError(reply, err);
      }
    },
  );

  app.put<{ Body: { width_m: number; height_m: number } }>(
    '/ui/api/plan',
    { config: { role: 'installer' }, schema: { body: { type: 'object', required: ['width_m', 'height_m'], properties: { width_m: { type: 'number' }, height_m: { type: 'number' } }, additionalProperties: false } } },
    async (request, reply) => {
      try {
        return await editConfig(gateway, 'floor plan', (doc) => {
          const image = gateway.config.floor_plan?.image;
          doc.set('floor_plan', doc.createNode({ width_m: request.body.width_m, height_m: request.body.height_m, ...(image ? { image } : {}) }));
        });
      } catch (err) {
        return replyWithEditError(reply, err);
      }
    },
  );

  const pointList = { type: 'array', items: point, minItems: 4, maxItems: 4 } as const;
  const calibrationBody = {
    type: 'object',
    required: ['image_points', 'plan_points'],
    properties: { image_points: pointList, plan_points: pointList, check_points: { type: 'array', maxItems: 20, items: { type: 'object', required: ['image', 'plan'], properties: { image: point, plan: point } } } },
    additionalProperties: false,
  } as const;
  type CalibrationBody = { image_points: Pt[]; plan_points: Pt[]; check_points?: { image: Pt; plan: Pt }[] };

  /** The homography and its errors, without saving (the UI previews while points are moved). */
  const calibrate = (body: CalibrationBody) => {
    const h = computeHomography(body.image_points, body.plan_points);
    if (!isProperMapping(h, [[0, 0], [1, 0], [1, 1], [0, 1]])) throw new CalibrationError('the mapping folds the image over itself: the points are not in the same order on the image and on the plan');
    const checks = body.check_points ?? [];
    return {
      homography: h,
      error_m: Math.round(reprojectionError(h, [...body.image_points, ...checks.map((c) => c.image)], [...body.plan_points, ...checks.map((c) => c.plan)]) * 1000) / 1000,
      check_error_m: checks.length ? Math.round(reprojectionError(h, checks.map((c) => c.image), checks.map((c) => c.plan)) * 1000) / 1000 : null,
    };
  };

  app.post<{ Params: { id: string }; Body: CalibrationBody }>('/ui/api/cameras/:id/calibration/preview', { config: { role: 'installer' }, schema: { body: calibrationBody } }, async (request, reply) => {
    cameraConfig(request.params.id);
    try {
      return calibrate(request.body);
    } catch (err) {
      return replyWithEditError(reply, err);
    }
  });

  app.put<{ Params: { id: string }; Body: CalibrationBody }>('/ui/api/cameras/:id/calibration', { config: { role: 'installer' }, schema: { body: calibrationBody } }, async (request, reply) => {
    try {
      const result = calibrate(request.body);
      await editConfig(gateway, `calibration of camera ${request.params.id}`, (doc) => {
        const i = cameraIndex(doc, request.params.id);
        doc.setIn(['cameras', i, 'calibration'], doc.createNode({ image_points: request.body.image_points, plan_points: request.body.plan_points, error_m: result.error_m }));
      });
      return { saved: true, ...result };
    } catch (err) {
      return replyWithEditError(reply, err);
    }
  });

  // ---- store-level lines and zones on the floor plan, and their KPIs
  registerPlanRoutes(app, gateway, auth, ctx.now);

  // ---- validation
  app.get('/ui/api/validations', { config: { role: 'viewer' } }, async () => ({ validations: validations.list() }));
  app.post<{ Body: { camera: string; line: string } }>(
    '/ui/api/validations',
    { config: { role: 'installer' }, schema: { body: { type: 'object', required: ['camera', 'line'], properties: { camera: { type: 'string' }, line: { type: 'string' } }, additionalProperties: false } } },
    async (request) => {
      try {
        return validations.start(request.body.camera, request.body.line, auth.session(request)!.username);
      } catch (err) {
        throw new ApiError(400, 'invalid', (err as Error).message);
      }
    },
  );
  app.get<{ Params: { id: string } }>('/ui/api/validations/:id', { config: { role: 'viewer' } }, async (request) => {
    const run = validations.current(request.params.id);
    if (!run) throw new ApiError(404, 'unknown_validation', 'no such validation');
    return run;
  });
  app.post<{ Params: { id: string }; Body: { direction: 'in' | 'out'; undo?: boolean } }>(
    '/ui/api/validations/:id/tap',
    { config: { role: 'installer' }, schema: { body: { type: 'object', required: ['direction'], properties: { direction: { type: 'string', enum: ['in', 'out'] }, undo: { type: 'boolean' } }, additionalProperties: false } } },
    async (request) => {
      const run = validations.tap(request.params.id, request.body.direction, request.body.undo ? -1 : 1);
      if (!run) throw new ApiError(404, 'unknown_validation', 'no running validation with this id');
      return run;
    },
  );
  app.post<{ Params: { id: string } }>('/ui/api/validations/:id/finish', { config: { role: 'installer' } }, async (request) => {
    const run = await validations.finish(request.params.id);
    if (!run) throw new ApiError(404, 'unknown_validation', 'no such validation');
    ctx.log.info({ camera: run.camera, line: run.line, manual: run.manual, automatic: run.automatic, accuracy: run.accuracy }, 'web UI: count validation finished');
    return run;
  });
}

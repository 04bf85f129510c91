/**
 * Who is calling: a web UI session (cookie) with its role, for the UI's own routes and for the
 * REST API when called from the browser. Every /ui/api route must declare the role it needs
 * (`config: { role }`); a route without one makes the server refuse to start.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../gateway/config/configSchema.js';
import { LoginLimiter } from './auth/loginLimiter.js';
import { readCookie, SESSION_COOKIE, Sessions, type Session } from './auth/sessions.js';
import { UserStore, type Role } from './auth/users.js';

/** `public`: login and first-run setup only. */
export type RouteRole = Role | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    role?: RouteRole;
  }
}

const RANK: Record<RouteRole, number> = { public: 0, viewer: 1, installer: 2 };

export class WebAuth {
  readonly sessions: Sessions;
  readonly limiter: LoginLimiter;
  /** Wrong first-run setup codes per address, limited like failed logins. */
  readonly setupLimiter: LoginLimiter;
  private userStore: UserStore | undefined;
  /** Every route the server has, with the role it needs (tests walk this list). */
  readonly routes: { method: string; url: string; role: RouteRole | 'token' | 'open' }[] = [];

  constructor(
    private readonly config: () => GatewayConfig,
    now: () => number,
  ) {
    this.sessions = new Sessions(() => config().data_dir, now);
    this.limiter = new LoginLimiter(now);
    this.setupLimiter = new LoginLimiter(now);
  }

  /** The accounts of the current data_dir. */
  get users(): UserStore {
    const file = UserStore.inDataDir(this.config().data_dir).file;
    if (this.userStore?.file !== file) this.userStore = new UserStore(file);
    return this.userStore;
  }

  /** The cookie's raw session token, if any. */
  static token(request: FastifyRequest): string | undefined {
    return readCookie(request.headers.cookie, SESSION_COOKIE);
  }

  /**
   * The caller's session. Sessions outlive restarts, so one whose account is gone or has another
   * role now (users.json replaced or reset) is ended here rather than trusted.
   */
  session(request: FastifyRequest): Session | undefined {
    const token = WebAuth.token(request);
    const session = this.sessions.get(token);
    if (session && this.users.role(session.username) !== session.role) {
      this.sessions.end(token);
      return undefined;
    }
    return session;
  }

  static allows(session: Session | undefined, needed: RouteRole): boolean {
    if (needed === 'public') return true;
    return session !== undefined && RANK[session.role] >= RANK[needed];
  }

  /** Installs the checks on the server. */
  install(app: FastifyInstance): void {
    app.addHook('onClose', async () => this.sessions.close());
    app.addHook('onRoute', (route) => {
      if (route.url.startsWith('/ui/api/') && route.config?.role === undefined) throw new Error(`route ${String(route.method)} ${route.url} declares no role`);
      const role = route.url.startsWith('/ui/api/') ? route.config!.role! : route.url.startsWith('/api/') ? 'token' : 'open';
      for (const method of [route.method].flat()) if (method !== 'HEAD') this.routes.push({ method, url: route.url, role });
    });
    // onRequest: before the body is read or validated, so nothing of a route is reachable without the role.
    // The route the router matched decides, not the raw URL: `/%75i/api/users` and the absolute form
    // `GET http://host/ui/api/users` reach /ui/api/users without starting with "/ui/api/".
    app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      if (!routePath(request).startsWith('/ui/api/')) return;
      const needed = request.routeOptions.config.role ?? 'installer';
      const session = this.session(request);
      if (WebAuth.allows(session, needed)) return;
      return reply
        .status(session ? 403 : 401)
        .send({ error: { code: session ? 'forbidden' : 'unauthorized', message: session ? `this needs the ${needed} role` : 'log in first' } });
    });
  }
}

/**
 * The path of the route a request reached (its pattern, e.g. `/ui/api/users/:username`); for a
 * request no route matched, the raw URL. Access checks use this, never `request.url` alone.
 */
export function routePath(request: FastifyRequest): string {
  return request.routeOptions.url ?? request.url;
}

/**
 * The fleet dashboard's files (web/src/fleet, bundled into dist/web/fleet.js by `npm run build`,
 * styled by the web UI's app.css). Public like a login page: they hold no data; the page reads the
 * fleet API with the bearer token the user types in.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../projectPaths.js';

const WEB_ROOT = path.join(PROJECT_ROOT, 'dist', 'web');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>storepulse fleet</title>
    <link rel="stylesheet" href="/fleet/app.css" />
  </head>
  <body>
    <header id="top"><span class="brand">storepulse fleet</span></header>
    <main id="app"><p class="muted">Loading…</p></main>
    <script src="/fleet/fleet.js"></script>
  </body>
</html>
`;

/** URLs that need no token: the page and its files. */
export const isFleetPageUrl = (url: string): boolean => url === '/' || url === '/fleet' || url.startsWith('/fleet/');

const SECURITY = {
  'cache-control': 'no-cache',
  'content-security-policy': "default-src 'self'; style-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
};

export function registerFleetPage(app: FastifyInstance): void {
  app.get('/', async (_request, reply) => reply.redirect('/fleet/'));
  app.get('/fleet', async (_request, reply) => reply.redirect('/fleet/'));
  app.get('/fleet/', async (_request, reply) => reply.headers(SECURITY).type('text/html; charset=utf-8').send(PAGE));
  for (const [file, type] of [
    ['fleet.js', 'text/javascript; charset=utf-8'],
    ['app.css', 'text/css; charset=utf-8'],
  ] as const) {
    app.get(`/fleet/${file}`, async (_request, reply) => {
      const full = path.join(WEB_ROOT, file);
      if (!existsSync(full)) return reply.code(503).type('text/plain').send('the fleet dashboard is not built: run `npm run build`');
      return reply.headers(SECURITY).type(type).send(await readFile(full));
    });
  }
}

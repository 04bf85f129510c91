// Bundles the web UI (web/src, TypeScript) into dist/web with esbuild: offline, from npm packages only.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'web');
mkdirSync(out, { recursive: true });
await build({
  // app.js: the gateway's web UI; fleet.js: the fleet dashboard `storepulse central` serves.
  entryPoints: { app: path.join(root, 'web', 'src', 'main.ts'), fleet: path.join(root, 'web', 'src', 'fleet', 'main.ts') },
  bundle: true,
  format: 'iife',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  outdir: out,
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css']) copyFileSync(path.join(root, 'web', file), path.join(out, file));

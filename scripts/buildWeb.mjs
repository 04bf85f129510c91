// Bundles the web UI (web/src, TypeScript) into dist/web with esbuild: offline, from npm packages only.
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'web');
// Built beside dist/web, then renamed into it file by file: a server or browser test reading
// dist/web while another test rebuilds it sees the old file or the new one, never half a file.
const staging = path.join(root, 'dist', `web.build-${process.pid}`);
mkdirSync(out, { recursive: true });
mkdirSync(staging, { recursive: true });
await build({
  // app.js: the gateway's web UI; fleet.js: the fleet dashboard `storepulse central` serves.
  entryPoints: { app: path.join(root, 'web', 'src', 'main.ts'), fleet: path.join(root, 'web', 'src', 'fleet', 'main.ts') },
  bundle: true,
  format: 'iife',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  outdir: staging,
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css']) copyFileSync(path.join(root, 'web', file), path.join(staging, file));
for (const file of readdirSync(staging)) renameSync(path.join(staging, file), path.join(out, file));
rmSync(staging, { recursive: true, force: true });

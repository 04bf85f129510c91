import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this file whether it runs from src/ (tsx, vitest) or dist/src/ (the bin). */
function findProjectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'storepulse') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the storepulse package root');
    dir = parent;
  }
}

export const PROJECT_ROOT = findProjectRoot();
export const MODELS_DIR = path.join(PROJECT_ROOT, 'models');

/** Debian's chromium driven by playwright-core (never a downloaded browser). */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/projectPaths.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = (): boolean => existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Bundles the web UI as the tree is now, for a test of a page newer than any dist/web it might find. */
export function buildWebBundle(): void {
  const built = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'buildWeb.mjs')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`web build failed: ${built.stderr}`);
}

/** A fixed-offset zone where it is around noon now, so events of the last minutes are "today" whenever the test runs. */
export function noonTimeZone(): string {
  const hoursAhead = (12 - new Date().getUTCHours() + 24) % 24;
  const offset = hoursAhead > 12 ? hoursAhead - 24 : hoursAhead; // −11 … +12
  // Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3.
  return offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

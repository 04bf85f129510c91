/**
 * `npm run bench:central -- --fleet-day` on a tiny fleet (5 stores × 60 minutes), as a process, against
 * its own real mosquitto and PostgreSQL: the day streams through a `storepulse central` worker and the
 * check finds no gap and agreeing rollups (exit 0). With bins withheld from publication, the same check
 * names the missing minutes, the store-hours that no longer add up, and the bench exits 1.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FleetDayVerdict } from '../../src/central/fleetDayCheck.js';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { hasMosquitto } from '../helpers/mosquitto.js';
import { postgresUnavailable } from '../helpers/postgres.js';

interface BenchResult {
  stores: number;
  minutes: number;
  messages: number;
  bins_1m: number;
  revisions: number;
  bins_1h: number;
  events: number;
  statuses: number;
  withheld: number;
  verdict: FleetDayVerdict;
}

function bench(args: string[]): Promise<{ code: number | null; result: BenchResult; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts/benchCentral.ts'), '--fleet-day', '--stores', '5', '--minutes', '60', '--json', ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-5000)));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) reject(new Error(`no JSON from the bench (exit ${code}): ${stdout.slice(-2000)} ${stderr}`));
      else resolve({ code, result: JSON.parse(line) as BenchResult, stderr });
    }),
  );
}

describe.skipIf(postgresUnavailable() !== undefined || !hasMosquitto())('bench:central --fleet-day on a tiny fleet', () => {
  it('streams the day through a worker and finds every minute of every store, once, at its highest revision', async () => {
    const { code, result, stderr } = await bench(['--events']);
    expect(result.verdict.problems, stderr).toEqual([]);
    expect(code).toBe(0);
    expect(result).toMatchObject({ stores: 5, minutes: 60, bins_1m: 300, revisions: 30, bins_1h: 5, statuses: 10, withheld: 0 });
    expect(result.events).toBeGreaterThan(300); // a door count per minute, and till events
    expect(result.verdict).toMatchObject({
      noGap: true,
      ok: true,
      binsExpected: 300,
      binsStored: 300,
      storesComplete: 5,
      missing: 0,
      duplicates: 0,
      wrongRevision: 0,
      hourlyBinsStored: 5,
      rollupHoursChecked: 5,
      rollupHourMismatches: 0,
      rollupDaysChecked: 5,
      rollupDayMismatches: 0,
      gatewaysWrong: 0,
    });
  }, 300_000);

  it('reports the withheld bins as gaps and exits 1', async () => {
    const { code, result } = await bench(['--withhold', '3']);
    expect(code).toBe(1);
    expect(result.withheld).toBe(3);
    expect(result.bins_1m).toBe(297);
    const v = result.verdict;
    expect(v).toMatchObject({ noGap: false, ok: false, binsExpected: 300, binsSent: 297, binsStored: 297, missing: 3, duplicates: 0, wrongRevision: 0 });
    expect(v.gaps.reduce((sum, g) => sum + g.minutes, 0)).toBe(3);
    expect(v.problems.filter((p) => p.startsWith('gap: '))).toHaveLength(v.gapCount);
    // The gateways' 1-hour bins still count the withheld minutes' visitors.
    expect(v.rollupHourMismatches).toBeGreaterThan(0);
  }, 300_000);
});

/**
 * `npm run soak`'s command line: a bad option stops it before anything starts, with one line on
 * stderr and a non-zero exit; good ones reach the run as numbers. The CLI cases run the real script
 * (through tsx, as `npm run soak` does); each fails before the soak would start anything.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSoakArgs, SoakUsageError } from '../../scripts/lib/soakOptions.js';
import { DEFAULT_TOLERANCES_PER_HOUR } from '../../scripts/lib/soakRun.js';
import { PROJECT_ROOT } from '../../src/projectPaths.js';

const bad = (args: string[]): string => {
  try {
    parseSoakArgs(args);
  } catch (err) {
    expect(err).toBeInstanceOf(SoakUsageError);
    return (err as Error).message;
  }
  throw new Error(`accepted: ${args.join(' ')}`);
};

describe('soak options', () => {
  it('reads the defaults and given values as numbers', () => {
    expect(parseSoakArgs([])).toEqual({
      help: false,
      out: 'soak-out',
      options: { minutes: 60, cameras: 8, sensorRate: 200, sampleEveryS: 5, restartEveryS: 180, outageS: 20, tolerancesPerHour: DEFAULT_TOLERANCES_PER_HOUR },
    });
    const parsed = parseSoakArgs(['--minutes', '2.5', '--cameras=2', '--sensor-rate', '50', '--out', 'x', '--sample-every', '.5', '--restart-every', '45', '--outage', '8', '--tolerance', 'rss_mb=2.5']);
    expect(parsed).toEqual({
      help: false,
      out: 'x',
      options: { minutes: 2.5, cameras: 2, sensorRate: 50, sampleEveryS: 0.5, restartEveryS: 45, outageS: 8, tolerancesPerHour: { ...DEFAULT_TOLERANCES_PER_HOUR, rss_mb: 2.5 } },
    });
    expect(parseSoakArgs(['--help'])).toEqual({ help: true });
    expect(parseSoakArgs(['-h'])).toEqual({ help: true });
  });

  it('refuses bad values, unknown options and stray arguments with one line saying which', () => {
    const cases: [string[], RegExp][] = [
      [['--minutes', 'abc'], /^--minutes must be a positive number \(minutes\), got "abc"$/],
      [['--minutes', '-5'], /^--minutes must be a positive number \(minutes\), got "-5"$/],
      [['--minutes=-0.5'], /^--minutes must be a positive number \(minutes\), got "-0.5"$/],
      [['--minutes', '0'], /^--minutes must be a positive number/],
      [['--minutes', ''], /^--minutes must be a positive number/],
      [['--minutes', '0x10'], /got "0x10"/],
      [['--minutes', 'Infinity'], /got "Infinity"/],
      [['--cameras', '-1'], /^--cameras must be a positive number/],
      [['--cameras', '0.3'], /^--cameras must be a whole number, got "0.3"$/],
      [['--sensor-rate', 'fast'], /^--sensor-rate must be a positive number \(readings per second\)/],
      [['--sample-every', '-2'], /^--sample-every must be a positive number \(seconds\), got "-2"$/],
      [['--restart-every', 'never'], /^--restart-every must be a positive number/],
      [['--outage', '-20'], /^--outage must be a positive number/],
      [['--outage', '200'], /^--outage \(200 s\) must be shorter than --restart-every \(180 s\)/],
      [['--minutes', '1', '--sample-every', '60'], /^--sample-every \(60 s\) must be shorter than the run/],
      [['--tolerance', 'rss=2'], /^--tolerance: unknown metric "rss"/],
      [['--tolerance', 'rss_mb'], /^--tolerance rss_mb: write it as rss_mb=perHour/],
      [['--tolerance', 'rss_mb=-1'], /^--tolerance must be a positive number \(rss_mb per hour\), got "-1"$/],
      [['--out', ''], /^--out must name a directory$/],
      [['--minutes'], /'--minutes <value>' argument missing/],
      [['--hours', '1'], /Unknown option '--hours'/],
      [['-m', '1'], /Unknown option '-m'/],
      [['60'], /Unexpected argument '60'/],
    ];
    for (const [args, expected] of cases) {
      const message = bad(args);
      expect(message, args.join(' ')).toMatch(expected);
      expect(message, args.join(' ')).not.toMatch(/\n/);
    }
  });

  it.each([
    [['--minutes', 'abc'], 'soak: --minutes must be a positive number (minutes), got "abc" (npm run soak -- --help)'],
    [['--minutes', '-5'], 'soak: --minutes must be a positive number (minutes), got "-5" (npm run soak -- --help)'],
    [['--bogus'], /^soak: Unknown option '--bogus'.* \(npm run soak -- --help\)$/],
  ] as const)('the command exits non-zero with one line on stderr: %j', (args, expected) => {
    const run = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), [path.join(PROJECT_ROOT, 'scripts', 'soak.ts'), ...args], { encoding: 'utf8', cwd: PROJECT_ROOT, timeout: 120_000 });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    if (typeof expected === 'string') expect(lines[0]).toBe(expected);
    else expect(lines[0]).toMatch(expected);
  }, 150_000);

  it('prints the usage for --help and exits 0', () => {
    const run = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), [path.join(PROJECT_ROOT, 'scripts', 'soak.ts'), '--help'], { encoding: 'utf8', cwd: PROJECT_ROOT, timeout: 120_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run soak -- /);
    expect(run.stdout).toMatch(/--tolerance/);
    expect(run.stderr).toBe('');
  }, 150_000);
});

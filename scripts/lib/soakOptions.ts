/**
 * The command line of `npm run soak`, checked before anything starts: a soak is an hour of machine
 * time, so a typo must stop it at once with one line that says what is wrong (not a stack trace, and
 * not a run with a silently defaulted or rounded-to-zero setting).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_TOLERANCES_PER_HOUR, JUDGED_METRICS, type JudgedMetric, type SoakOptions } from './soakRun.js';

export const SOAK_USAGE = `usage: npm run soak -- [--minutes N] [--cameras N] [--sensor-rate PER_S] [--out DIR] [--sample-every S]
                      [--restart-every S] [--outage S] [--tolerance METRIC=PER_HOUR ...] [--help]
  --minutes        how long to sample (default 60)
  --cameras        looping vtest.avi cameras, a whole number (default 8)
  --sensor-rate    MQTT sensor readings per second, all devices together (default 200)
  --out            where soak.json and soak.png are written (default soak-out)
  --sample-every   seconds between samples (default 5)
  --restart-every  the upstream broker is stopped every S seconds (default 180) ...
  --outage         ... for S seconds (default 20; shorter than --restart-every)
  --tolerance      a trend allowed per hour, e.g. rss_mb=2 (metrics: ${JUDGED_METRICS.join(', ')})`;

/** A command line that cannot be run; the message is one line, meant for stderr as it is. */
export class SoakUsageError extends Error {}

export type ParsedSoakArgs = { help: true } | { help: false; out: string; options: Omit<SoakOptions, 'log' | 'inconclusiveFails' | 'now'> };

const NUMBER_OPTIONS = ['minutes', 'cameras', 'sensor-rate', 'sample-every', 'restart-every', 'outage'] as const;
const UNITS: Record<(typeof NUMBER_OPTIONS)[number], string> = {
  minutes: 'minutes',
  cameras: 'how many cameras',
  'sensor-rate': 'readings per second',
  'sample-every': 'seconds',
  'restart-every': 'seconds',
  outage: 'seconds',
};

// Plain decimals only: Number() would also take "0x10", "1e3", " 5" or "" (as 0), which on a
// command line are far more likely typos than intent.
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

function positive(option: string, raw: string, what: string): number {
  const n = DECIMAL.test(raw) ? Number(raw) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw new SoakUsageError(`${option} must be a positive number (${what}), got "${raw}"`);
  return n;
}

export function parseSoakArgs(argv: readonly string[]): ParsedSoakArgs {
  // `--minutes -5` would read to node's parser as a missing value followed by an option "-5" and
  // produce a three-line message about ambiguity; joined as `--minutes=-5` it reaches the number
  // check below and gets the message every other bad number gets.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (/^--[a-z-]+$/.test(arg) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      args.push(`${arg}=${next}`);
      i++;
    } else {
      args.push(arg);
    }
  }
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        minutes: { type: 'string', default: '60' },
        cameras: { type: 'string', default: '8' },
        'sensor-rate': { type: 'string', default: '200' },
        out: { type: 'string', default: 'soak-out' },
        'sample-every': { type: 'string', default: '5' },
        'restart-every': { type: 'string', default: '180' },
        outage: { type: 'string', default: '20' },
        tolerance: { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    // node's messages (unknown option, missing value, unexpected argument) are clear but may span lines.
    throw new SoakUsageError((err as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  if (values.help) return { help: true };

  const n = Object.fromEntries(NUMBER_OPTIONS.map((name) => [name, positive(`--${name}`, values[name], UNITS[name])])) as Record<(typeof NUMBER_OPTIONS)[number], number>;
  if (!Number.isInteger(n.cameras)) throw new SoakUsageError(`--cameras must be a whole number, got "${values.cameras}"`);
  if (n.outage >= n['restart-every']) throw new SoakUsageError(`--outage (${n.outage} s) must be shorter than --restart-every (${n['restart-every']} s): the broker would never be up`);
  if (n['sample-every'] >= n.minutes * 60) throw new SoakUsageError(`--sample-every (${n['sample-every']} s) must be shorter than the run (--minutes ${n.minutes}): no trend without samples`);
  if (values.out.trim() === '') throw new SoakUsageError('--out must name a directory');

  const tolerancesPerHour = { ...DEFAULT_TOLERANCES_PER_HOUR };
  for (const item of values.tolerance) {
    const eq = item.indexOf('=');
    const metric = eq < 0 ? item : item.slice(0, eq);
    if (!JUDGED_METRICS.includes(metric as JudgedMetric)) throw new SoakUsageError(`--tolerance: unknown metric "${metric}" (one of ${JUDGED_METRICS.join(', ')}; written metric=perHour)`);
    if (eq < 0) throw new SoakUsageError(`--tolerance ${item}: write it as ${metric}=perHour, e.g. ${metric}=2`);
    tolerancesPerHour[metric as JudgedMetric] = positive('--tolerance', item.slice(eq + 1), `${metric} per hour`);
  }

  return {
    help: false,
    out: values.out,
    options: { minutes: n.minutes, cameras: n.cameras, sensorRate: n['sensor-rate'], sampleEveryS: n['sample-every'], restartEveryS: n['restart-every'], outageS: n.outage, tolerancesPerHour },
  };
}

/**
 * The CLI explains itself: --version, the overview, every command's help naming every option its
 * parser accepts, and one-line errors for unknown options and commands that point to the help.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_SPECS, DETECT, EVAL } from '../../src/cli/commandSpecs.js';
import { commandHelp, parseArgsOptions, parseCommandArgs, UsageError, type CommandSpec } from '../../src/cli/options.js';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { runCli } from '../helpers/cli.js';

const COMMANDS = ['run', 'detect', 'analyze', 'eval', 'demo', 'impact', 'central'];

/** The options each command must accept: the issue's list, so that a spec losing one fails here. */
const EXPECTED_OPTIONS: Record<string, string[]> = {
  run: ['config', 'demo', 'port'],
  detect: ['model', 'max-frames', 'json', 'annotate', 'threads', 'score'],
  analyze: ['source', 'scene', 'fps', 'model', 'out', 'json', 'threads', 'max-frames'],
  eval: ['source', 'gt', 'scene', 'frame-offset', 'fps', 'model', 'threads', 'decode', 'random-lines', 'random-zones', 'seed', 'save-detections', 'load-detections', 'json'],
  demo: ['source', 'scene', 'fps', 'model', 'out', 'json', 'threads', 'max-frames'],
  impact: ['db', 'subject', 'change', 'weeks', 'control', 'control-db', 'config', 'timezone', 'json'],
  central: ['config', 'demo', 'gateways', 'days', 'port'],
};

describe('storepulse --version and help', () => {
  it('--version prints the version in package.json', async () => {
    const { version } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });

  it('help lists every command with one line and says how to get a command\'s help', async () => {
    for (const args of [['help'], ['--help'], ['-h']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(0);
      for (const name of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
      expect(r.stdout).toContain('storepulse help <command>');
    }
  });

  it('without a command prints the overview and exits 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('storepulse help <command>');
  });
});

describe.each(COMMANDS)('storepulse %s help', (name) => {
  it('--help, -h and `help <command>` print the same usage, every option explained and an example, exit 0', async () => {
    const [long, short, topic] = await Promise.all([runCli([name, '--help']), runCli([name, '-h']), runCli(['help', name])]);
    for (const r of [long, short, topic]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
    }
    expect(short.stdout).toBe(long.stdout);
    expect(topic.stdout).toBe(long.stdout);
    const help = long.stdout;
    expect(help).toMatch(new RegExp(`^usage: storepulse ${name}`, 'm'));
    for (const option of EXPECTED_OPTIONS[name]!) {
      // Listed in the options table with a description after it (a value placeholder may sit between).
      expect(help, `--${option}`).toMatch(new RegExp(`^  --${option}(?: \\S+)? {2,}\\S`, 'm'));
    }
    expect(help).toMatch(/^examples:\n {2}# .+\n {2}storepulse /m);
  });

  it('--help wins over the other arguments (run --help does not start the gateway)', async () => {
    const r = await runCli([name, '--no-such-option', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: storepulse ${name}`, 'm'));
  });

  it('an unknown option is one line naming it and the command\'s help, exit 2', async () => {
    const r = await runCli([name, '--foo']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`storepulse ${name}: unknown option --foo (see: storepulse help ${name})\n`);
  });
});

describe('the specs behind parsing and help', () => {
  it('every option the parser accepts is in the help, with its default, and nothing else is accepted', () => {
    for (const spec of COMMAND_SPECS as readonly CommandSpec[]) {
      expect(Object.keys(parseArgsOptions(spec)).sort(), spec.name).toEqual([...EXPECTED_OPTIONS[spec.name]!].sort());
      const help = commandHelp(spec);
      for (const o of spec.options) {
        const start = help.indexOf(`\n  --${o.name}${o.value ? ` ${o.value}` : ''} `);
        expect(start, `${spec.name} --${o.name}`).toBeGreaterThan(0);
        const row = help.slice(start + 1).split(/\n {2}-/)[0]!.replace(/\s+/g, ' ');
        expect(row, `${spec.name} --${o.name}`).toContain(o.description);
        if (o.default !== undefined) expect(row, `${spec.name} --${o.name}`).toContain(`(default: ${o.default})`);
      }
    }
  });

  it('defaults from the spec reach the parsed values', () => {
    const { values } = parseCommandArgs(EVAL, ['--gt', 'gt.txt']);
    expect(values).toMatchObject({ 'frame-offset': '1', 'random-lines': '20', 'random-zones': '10', seed: '1', json: false, gt: 'gt.txt' });
  });

  it('value mistakes are usage errors naming the option', () => {
    const error = (argv: string[]): UsageError => {
      try {
        parseCommandArgs(DETECT, argv);
      } catch (err) {
        if (err instanceof UsageError) return err;
        throw err;
      }
      throw new Error(`no error for ${argv.join(' ')}`);
    };
    expect(error(['img.png', '--max-frames']).message).toBe('option --max-frames needs a value (N)');
    expect(error(['img.png', '--json=yes']).message).toBe('option --json takes no value');
    expect(error(['img.png', '--model', '--json']).message).toMatch(/^option --model needs a value \(NAME\|PATH\); for a value that starts with "-" write --model=VALUE$/);
    expect(error(['img.png', '-q']).message).toBe('unknown option -q');
    expect(error(['img.png', '-q']).exitCode).toBe(2);
  });
});

describe('storepulse unknown commands', () => {
  it('an unknown command or option before the command is one line pointing to storepulse help, exit 2', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('storepulse: unknown command "frobnicate" (see: storepulse help)\n');
    const o = await runCli(['--frobnicate']);
    expect(o.code).toBe(2);
    expect(o.stderr).toBe('storepulse: unknown option --frobnicate (see: storepulse help)\n');
    const h = await runCli(['help', 'frobnicate']);
    expect(h.code).toBe(2);
    expect(h.stderr).toBe('storepulse: unknown command "frobnicate" (see: storepulse help)\n');
  });
});

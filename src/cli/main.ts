#!/usr/bin/env node
/** storepulse command line: dispatches sub-commands and turns every error into one line and an exit code. */
import path from 'node:path';
import { PROJECT_ROOT } from '../projectPaths.js';
import { CliError } from './errors.js';
import { analyzeCommand, ANALYZE_USAGE } from './analyzeCommand.js';
import { detectCommand, DETECT_USAGE } from './detectCommand.js';
import { evalCommand, EVAL_USAGE } from './evalCommand.js';
import { runCommand, RUN_USAGE } from './runCommand.js';

const USAGE = `storepulse — in-store people counting and sensor gateway

commands:
  ${RUN_USAGE.replace(/^usage: /, '')}
                       the live gateway (API on :8080; --demo plays the sample footage as a camera)
  ${DETECT_USAGE.replace(/^usage: /, '').replace(/\n/g, '\n  ')}
  ${ANALYZE_USAGE.replace(/^usage: /, '').replace(/\n/g, '\n  ')}
  ${EVAL_USAGE.replace(/^usage: /, '').replace(/\n/g, '\n  ')}
                       accuracy against MOT ground truth: AP50, MOTA, IDF1, line and zone errors
  storepulse demo      count people on the sample footage (vtest.avi) with config/scenes/vtest.yaml`;

type Command = (argv: string[], out: (line: string) => void) => Promise<void>;

const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';

const COMMANDS: Record<string, Command> = {
  detect: detectCommand,
  analyze: analyzeCommand,
  eval: evalCommand,
  run: (argv) => runCommand(argv),
  demo: (argv, out) =>
    analyzeCommand(['--source', VTEST, '--scene', path.join(PROJECT_ROOT, 'config/scenes/vtest.yaml'), '--max-frames', '300', ...argv], out),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`storepulse: unknown command "${name}"\n${USAGE}\n`);
    return 2;
  }
  try {
    await command(rest, out);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    const exitCode = err instanceof CliError ? err.exitCode : e.code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
    // CliError messages are written for people (a scene's problems, one per line); anything else gets its first line.
    const message = err instanceof CliError ? e.message : e.message.split('\n')[0];
    process.stderr.write(`storepulse: ${message}\n`);
    if (process.env.STOREPULSE_DEBUG) process.stderr.write(`${e.stack}\n`);
    return exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));

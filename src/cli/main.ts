#!/usr/bin/env node
/** storepulse command line: dispatches sub-commands and turns every error into one line and an exit code. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../projectPaths.js';
import { COMMAND_SPECS } from './commandSpecs.js';
import { CliError } from './errors.js';
import { commandHelp, overview, UsageError, wantsHelp } from './options.js';

type Command = (argv: string[], out: (line: string) => void) => Promise<void>;
type CommandName = (typeof COMMAND_SPECS)[number]['name'];

// Loaded when run, so that help and --version do not wait for onnxruntime, sharp and the gateway.
const COMMANDS: Record<CommandName, () => Promise<Command>> = {
  run: async () => (await import('./runCommand.js')).runCommand,
  detect: async () => (await import('./detectCommand.js')).detectCommand,
  analyze: async () => (await import('./analyzeCommand.js')).analyzeCommand,
  eval: async () => (await import('./evalCommand.js')).evalCommand,
  demo: async () => (await import('./analyzeCommand.js')).demoCommand,
  central: async () => (await import('../central/centralCommand.js')).centralCommand,
  impact: async () => (await import('./impactCommand.js')).impactCommand,
};

const specOf = (name: string): (typeof COMMAND_SPECS)[number] | undefined => COMMAND_SPECS.find((s) => s.name === name);

/** The version in package.json, read when asked so that it is the installed one. */
function version(): string {
  return (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

function unknownCommand(name: string): number {
  const what = name.startsWith('-') ? `unknown option ${name}` : `unknown command "${name}"`;
  process.stderr.write(`storepulse: ${what} (see: storepulse help)\n`);
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  if (name === '--version') {
    out(version());
    return 0;
  }
  if (!name || name === '--help' || name === '-h') {
    out(overview(COMMAND_SPECS));
    return name ? 0 : 2;
  }
  if (name === 'help') {
    const [topic, ...extra] = rest;
    if (extra.length > 0) {
      process.stderr.write(`storepulse help: one command at a time, e.g. storepulse help ${topic}\n`);
      return 2;
    }
    const spec = topic === undefined || topic === 'help' ? undefined : specOf(topic);
    if (topic !== undefined && topic !== 'help' && !spec) return unknownCommand(topic);
    out(spec ? commandHelp(spec) : overview(COMMAND_SPECS));
    return 0;
  }
  const spec = specOf(name);
  if (!spec) return unknownCommand(name);
  try {
    if (wantsHelp(spec, rest)) {
      out(commandHelp(spec));
      return 0;
    }
    const command = await COMMANDS[spec.name]();
    await command(rest, out);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    if (err instanceof UsageError) {
      process.stderr.write(`storepulse ${err.command}: ${err.message} (see: storepulse help ${err.command})\n`);
      return err.exitCode;
    }
    const exitCode = err instanceof CliError ? err.exitCode : e.code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
    // CliError messages are written for people (a scene's problems, one per line); anything else gets its first line.
    const message = err instanceof CliError ? e.message : e.message.split('\n')[0];
    process.stderr.write(`storepulse: ${message}\n`);
    if (process.env.STOREPULSE_DEBUG) process.stderr.write(`${e.stack}\n`);
    return exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));

/**
 * Command-line options described once: each command's spec (commandSpecs.ts) gives every option its
 * name, value placeholder, description and default, and this module derives from it both what
 * `parseArgs` accepts and the help text, so the two cannot disagree.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './errors.js';

export interface OptionSpec {
  /** Long name, without the dashes. */
  readonly name: string;
  /** Placeholder for the option's value (FILE, N); absent for an on/off flag. */
  readonly value?: string;
  readonly description: string;
  /** Value used when the option is not given (options with a value only); the help shows it. */
  readonly default?: string;
  /** What happens without the option, when that is not a value given here (the command or the config decides). */
  readonly defaultText?: string;
  /** Written without brackets in the usage line; the command itself checks that it is there. */
  readonly required?: boolean;
}

export interface PositionalSpec {
  /** As written in the usage line: `<image|video>`. */
  readonly name: string;
  readonly description: string;
}

export interface ExampleSpec {
  readonly command: string;
  readonly note: string;
}

export interface CommandSpec {
  readonly name: string;
  /** One line, for the overview. */
  readonly summary: string;
  /** A paragraph under the usage line in the command's help. */
  readonly description: string;
  readonly positionals?: readonly PositionalSpec[];
  readonly options: readonly OptionSpec[];
  readonly examples: readonly [ExampleSpec, ...ExampleSpec[]];
}

type OptionValue<O extends OptionSpec> = O extends { readonly value: string }
  ? O extends { readonly default: string }
    ? string
    : string | undefined
  : boolean;

/** The parsed values of a spec declared `as const`: flags are booleans, options with a default are strings. */
export type OptionValues<S extends CommandSpec> = { -readonly [O in S['options'][number] as O['name']]: OptionValue<O> };

export interface ParsedArgs<S extends CommandSpec> {
  values: OptionValues<S>;
  positionals: string[];
}

/** A mistake in how a command was called: printed as `storepulse <command>: <message> (see: storepulse help <command>)`. */
export class UsageError extends CliError {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message, 2);
  }
}

/** What `parseArgs` accepts for a command. */
export function parseArgsOptions(spec: CommandSpec): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const o of spec.options) {
    options[o.name] = o.value === undefined ? { type: 'boolean', default: false } : o.default === undefined ? { type: 'string' } : { type: 'string', default: o.default };
  }
  return options;
}

/** True when `-h` or `--help` is among the options (not after `--`). */
export function wantsHelp(spec: CommandSpec, argv: readonly string[]): boolean {
  const { tokens } = parseArgs({ args: [...argv], options: parseArgsOptions(spec), strict: false, allowPositionals: true, tokens: true });
  return tokens.some((t) => t.kind === 'option' && (t.name === 'help' || t.name === 'h'));
}

/** Parses a command's arguments; any option the spec does not list, or a value missing or misplaced, is a UsageError. */
export function parseCommandArgs<S extends CommandSpec>(spec: S, argv: readonly string[]): ParsedArgs<S> {
  const options = parseArgsOptions(spec);
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'option' && !Object.hasOwn(options, t.name)) throw new UsageError(spec.name, `unknown option ${t.rawName}`);
  }
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { values: values as OptionValues<S>, positionals };
  } catch (err) {
    const e = err as Error & { code?: string };
    if (!e.code?.startsWith('ERR_PARSE_ARGS')) throw err;
    throw new UsageError(spec.name, describeParseError(spec, e.message));
  }
}

/** parseArgs' value errors, in the words of the rest of the CLI. */
function describeParseError(spec: CommandSpec, message: string): string {
  const option = spec.options.find((o) => message.startsWith(`Option '--${o.name}'`) || message.startsWith(`Option '--${o.name} `));
  if (option?.value !== undefined) {
    if (/argument missing/.test(message)) return `option --${option.name} needs a value (${option.value})`;
    if (/ambiguous/.test(message)) return `option --${option.name} needs a value (${option.value}); for a value that starts with "-" write --${option.name}=VALUE`;
  }
  if (option && /does not take an argument/.test(message)) return `option --${option.name} takes no value`;
  return message.split('\n')[0] ?? message;
}

const WIDTH = 100;

/** Greedy word wrap: the first line starts after `firstIndent` characters, the others after `indent` spaces. */
function wrap(words: readonly string[], indent: number, firstIndent = indent): string[] {
  const lines: string[] = [];
  let line = '';
  let start = firstIndent;
  for (const word of words) {
    if (line && start + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = '';
      start = indent;
    }
    line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const wrapText = (text: string, indent: number, firstIndent = indent): string[] => wrap(text.split(/\s+/).filter(Boolean), indent, firstIndent);

const optionSynopsis = (o: OptionSpec): string => (o.value === undefined ? `--${o.name}` : `--${o.name} ${o.value}`);

/** `usage: storepulse <command> …`, every positional and option, wrapped under the first one. */
export function usageLine(spec: CommandSpec): string {
  const head = `usage: storepulse ${spec.name} `;
  const words = [
    ...(spec.positionals ?? []).map((p) => p.name),
    ...spec.options.map((o) => (o.required ? optionSynopsis(o) : `[${optionSynopsis(o)}]`)),
  ];
  return head + wrap(words, head.length, head.length).join(`\n${' '.repeat(head.length)}`);
}

/** Two-column rows: the term, then its description wrapped in the second column. */
function table(rows: readonly { term: string; text: string }[]): string[] {
  const column = Math.min(Math.max(...rows.map((r) => r.term.length)) + 4, 30);
  const lines: string[] = [];
  for (const { term, text } of rows) {
    const lead = `  ${term}`;
    const sameLine = lead.length + 2 <= column;
    const body = wrapText(text, column);
    if (!sameLine) lines.push(lead);
    body.forEach((line, i) => lines.push(i === 0 && sameLine ? lead.padEnd(column) + line : ' '.repeat(column) + line));
  }
  return lines;
}

/** Everything about one command: usage, what it does, every option with its default, examples. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`storepulse ${spec.name} — ${spec.summary}`, '', usageLine(spec), '', ...wrapText(spec.description, 0)];
  if (spec.positionals?.length) lines.push('', 'arguments:', ...table(spec.positionals.map((p) => ({ term: p.name, text: p.description }))));
  const rows = spec.options.map((o) => {
    const fallback = o.default ?? o.defaultText;
    return { term: optionSynopsis(o), text: fallback === undefined ? o.description : `${o.description} (default: ${fallback})` };
  });
  rows.push({ term: '-h, --help', text: 'show this help and exit' });
  lines.push('', 'options:', ...table(rows), '', 'examples:');
  for (const e of spec.examples) lines.push(...wrapText(e.note, 4, 4).map((l) => `  # ${l}`), `  ${e.command}`);
  return lines.join('\n');
}

/** The list of commands, one line each. */
export function overview(specs: readonly CommandSpec[]): string {
  const rows = specs.map((s) => ({ term: s.name, text: s.summary }));
  return [
    'storepulse — in-store people counting and sensor gateway',
    '',
    'usage: storepulse <command> [options]',
    '',
    'commands:',
    ...table(rows),
    '',
    ...table([
      { term: 'storepulse help <command>', text: 'every option of a command, explained, with examples' },
      { term: 'storepulse <command> -h', text: 'the same' },
      { term: 'storepulse --version', text: 'the installed version' },
    ]),
  ].join('\n');
}

/**
 * The first-run claim: until the admin password is set, setting it needs a one-time setup code that
 * only someone with access to the box has. It is generated when no admin exists, printed in the
 * service log and kept in data_dir/setup-code (mode 0600). A restart before setup keeps the same
 * code (read back from the file) and prints it again; the code is erased (file deleted, memory
 * zeroed) once the admin password is set.
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

export const SETUP_CODE_FILE = 'setup-code';
/** No 0/O, 1/I/L: a code read off a screen or a terminal is typed right the first time. */
export const SETUP_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const GROUPS = 3;
const GROUP_LENGTH = 4;
const CODE_PATTERN = new RegExp(`^[${SETUP_CODE_ALPHABET}]{${GROUPS * GROUP_LENGTH}}$`);

/** 3 groups of 4 characters, crypto-random: 31^12 ≈ 2^59 codes. */
export function generateSetupCode(): string {
  const chars = Array.from({ length: GROUPS * GROUP_LENGTH }, () => SETUP_CODE_ALPHABET[randomInt(SETUP_CODE_ALPHABET.length)]!);
  return Array.from({ length: GROUPS }, (_, g) => chars.slice(g * GROUP_LENGTH, (g + 1) * GROUP_LENGTH).join('')).join('-');
}

/** What was typed, without the dashes and spaces and in upper case ("abcd efgh-jkmn" → "ABCDEFGHJKMN"). */
export function normaliseSetupCode(input: string): string {
  return input.replace(/[\s-]+/g, '').toUpperCase();
}

const digest = (value: Buffer): Buffer => createHash('sha256').update(value).digest();

export class SetupCode {
  private file: string | undefined;
  /** The normalised code; zeroed and dropped once used. */
  private code: Buffer | undefined;

  constructor(private readonly log: Logger) {}

  static fileIn(dataDir: string): string {
    return path.resolve(dataDir, SETUP_CODE_FILE);
  }

  /**
   * Makes sure data_dir holds a code while setup is needed: the one already in the file (after a
   * restart), else a new one. Logs it whenever it is (re)loaded into this process.
   */
  ensure(dataDir: string): void {
    const file = SetupCode.fileIn(dataDir);
    if (this.file === file && this.code) return;
    this.clearMemory();
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      text = undefined;
    }
    if (text !== undefined && CODE_PATTERN.test(normaliseSetupCode(text))) {
      chmodSync(file, 0o600);
    } else {
      text = generateSetupCode();
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `${text}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
    }
    this.file = file;
    this.code = Buffer.from(normaliseSetupCode(text));
    // warn: the service's log level may be set to warn, and this line is what the installer needs.
    this.log.warn({ setup_code_file: file }, `web UI first-run setup code: ${text} (also in ${file}); it is needed once, to set the admin password`);
  }

  /** Compares in constant time (digests of equal length, whatever was typed). */
  matches(dataDir: string, input: string): boolean {
    if (!this.code || this.file !== SetupCode.fileIn(dataDir)) return false;
    const typed = Buffer.from(normaliseSetupCode(input).slice(0, 64));
    return timingSafeEqual(digest(typed), digest(this.code));
  }

  /** Used: the file is deleted and the code zeroed in memory. Also removes a leftover file once an admin exists. */
  erase(dataDir: string): void {
    if (this.file === SetupCode.fileIn(dataDir)) this.clearMemory();
    rmSync(SetupCode.fileIn(dataDir), { force: true });
  }

  private clearMemory(): void {
    this.code?.fill(0);
    this.code = undefined;
    this.file = undefined;
  }
}

import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/projectPaths.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the storepulse CLI from source (tsx), as a user would run the bin. */
export function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A CLI error is one line for people: no second line, no stack trace. */
export function expectOneLineError(stderr: string, pattern: RegExp): void {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

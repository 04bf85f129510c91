/**
 * Count validation: the installer watches the live view and taps `in` / `out` for each person
 * crossing a line; the gateway's own count over the same minutes is compared with it. Results are
 * kept in data_dir/validations.json as the installation record.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomicFile.js';
import type { ValidationResult } from './apiTypes.js';

export type { ValidationResult };

interface Running {
  result: ValidationResult;
  baseline: { in: number; out: number };
}

/** 1 − error / manual, clamped at 0, to 0.1 %. */
function accuracy(manual: number, error: number): number {
  return Math.round(Math.max(0, 1 - error / manual) * 1000) / 1000;
}

export function accuracyOf(manual: number, automatic: number): number | null {
  if (manual === 0) return automatic === 0 ? null : 0;
  return accuracy(manual, Math.abs(automatic - manual));
}

export class ValidationRuns {
  private readonly running = new Map<string, Running>();
  private saved: ValidationResult[];
  private readonly file: string;

  constructor(
    dataDir: string,
    private readonly counts: (camera: string, line: string) => { in: number; out: number } | undefined,
    private readonly now: () => number,
  ) {
    this.file = path.resolve(dataDir, 'validations.json');
    try {
      this.saved = (JSON.parse(readFileSync(this.file, 'utf8')) as { validations: ValidationResult[] }).validations;
    } catch {
      this.saved = [];
    }
  }

  start(camera: string, line: string, by: string): ValidationResult {
    const baseline = this.counts(camera, line);
    if (!baseline) throw new Error(`camera "${camera}" has no running line "${line}"`);
    const result: ValidationResult = {
      id: randomUUID(),
      camera,
      line,
      by,
      started_at: new Date(this.now()).toISOString(),
      finished_at: null,
      manual: { in: 0, out: 0 },
      automatic: { in: 0, out: 0 },
      accuracy: { in: null, out: null, total: null },
    };
    this.running.set(result.id, { result, baseline: { ...baseline } });
    return this.current(result.id)!;
  }

  tap(id: string, direction: 'in' | 'out', delta: 1 | -1 = 1): ValidationResult | undefined {
    const run = this.running.get(id);
    if (!run) return undefined;
    run.result.manual[direction] = Math.max(0, run.result.manual[direction] + delta);
    return this.current(id);
  }

  /** The run with the automatic counts so far. */
  current(id: string): ValidationResult | undefined {
    const run = this.running.get(id);
    if (!run) return this.saved.find((v) => v.id === id);
    const now = this.counts(run.result.camera, run.result.line) ?? run.baseline;
    const r = run.result;
    r.automatic = { in: now.in - run.baseline.in, out: now.out - run.baseline.out };
    // Overall: 1 − (|Δin| + |Δout|) / (manual in + out): errors in either direction count.
    const manualTotal = r.manual.in + r.manual.out;
    const totalError = Math.abs(r.automatic.in - r.manual.in) + Math.abs(r.automatic.out - r.manual.out);
    r.accuracy = {
      in: accuracyOf(r.manual.in, r.automatic.in),
      out: accuracyOf(r.manual.out, r.automatic.out),
      total: manualTotal === 0 ? null : accuracy(manualTotal, totalError),
    };
    return { ...r, manual: { ...r.manual }, automatic: { ...r.automatic }, accuracy: { ...r.accuracy } };
  }

  async finish(id: string): Promise<ValidationResult | undefined> {
    const result = this.current(id);
    if (!result || !this.running.has(id)) return result;
    this.running.delete(id);
    result.finished_at = new Date(this.now()).toISOString();
    this.saved.push(result);
    await writeFileAtomic(this.file, `${JSON.stringify({ validations: this.saved }, null, 2)}\n`);
    return result;
  }

  list(): ValidationResult[] {
    return [...[...this.running.keys()].map((id) => this.current(id)!), ...this.saved].sort((a, b) => b.started_at.localeCompare(a.started_at));
  }
}

/**
 * At most one log line per key per interval, so a device sending garbage a thousand times a second
 * cannot flood the journal; the next line says how many were left out.
 */
import type { Logger } from 'pino';

export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly intervalMs = 10_000,
  ) {}

  warn(key: string, details: Record<string, unknown>, message: string): void {
    const t = this.now();
    const entry = this.last.get(key);
    if (entry && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(key, { at: t, suppressed: 0 });
    if (this.last.size > 10_000) this.last.delete(this.last.keys().next().value!);
    this.log.warn(suppressed ? { ...details, suppressed_since_last: suppressed } : details, message);
  }
}

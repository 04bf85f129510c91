/**
 * Login attempts per client address: 5 failures within 15 minutes lock that address out until the
 * window has passed; a success clears its record.
 */
const WINDOW_MS = 15 * 60_000;
const MAX_FAILURES = 5;

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly now: () => number) {}

  /** Milliseconds until this address may try again (0: now). */
  retryAfterMs(address: string): number {
    const recent = this.recent(address);
    return recent.length >= MAX_FAILURES ? recent[0]! + WINDOW_MS - this.now() : 0;
  }

  failed(address: string): void {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.set(address, recent);
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }

  private recent(address: string): number[] {
    const cutoff = this.now() - WINDOW_MS;
    return (this.failures.get(address) ?? []).filter((t) => t > cutoff);
  }
}

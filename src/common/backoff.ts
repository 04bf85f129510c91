/**
 * Reconnect delays: exponential, capped, with "equal jitter" (half fixed, half random) so that
 * cameras behind one switch that reboots do not all reconnect in the same millisecond, while a
 * camera back from an outage is still retried within `maxMs`.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt));
  return ceiling / 2 + (ceiling / 2) * random();
}

/** What every gateway service receives instead of module-level singletons: tests inject their own. */
import type { Logger } from 'pino';
import type { GatewayMetrics } from './metrics.js';

export interface GatewayContext {
  log: Logger;
  metrics: GatewayMetrics;
  /** Wall clock in ms (capture timestamps, status times). */
  now: () => number;
}

import { describe, expect, it } from 'vitest';
import { promValue } from '../../scripts/lib/soakPromText.js';
import { createMetrics } from '../../src/gateway/metrics.js';

describe('promValue', () => {
  it('reads the process metrics the soak samples from a real registry', async () => {
    const metrics = createMetrics();
    metrics.outboxBacklog.set(42);
    const text = await metrics.registry.metrics();
    expect(promValue(text, 'storepulse_outbox_backlog')).toBe(42);
    expect(promValue(text, 'storepulse_nodejs_heap_size_used_bytes')).toBeGreaterThan(1e6);
    expect(promValue(text, 'storepulse_nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('sums labelled series and does not confuse a name with a longer one', () => {
    const text = [
      '# HELP x_total help',
      'x_total{kind="event"} 3',
      'x_total{kind="kpi",a="}"} 4',
      'x_total_extra 100',
      'x 7',
    ].join('\n');
    expect(promValue(text, 'x_total')).toBe(7);
    expect(promValue(text, 'x')).toBe(7);
    expect(promValue(text, 'missing')).toBeUndefined();
  });
});

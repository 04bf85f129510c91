/**
 * The live adapter with the real config parser, real metrics and a captured logger; the clock is
 * injected and ticks are driven by hand (the timer is the only thing not exercised here).
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LiveFusion } from '../../src/fusion/liveFusion.js';
import type { PlanEvent } from '../../src/fusion/planCounting.js';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import type { GatewayConfig } from '../../src/gateway/config/configSchema.js';
import { createMetrics } from '../../src/gateway/metrics.js';
import type { PlanTrackSample } from '../../src/fusion/storeFuser.js';

const W = 640;
const H = 480;
const T0 = 1_700_000_000_000;
const square = [[0, 0], [1, 0], [1, 1], [0, 1]];
const camera = (id: string, planX0: number, extra: Record<string, unknown> = {}) => ({
  id,
  source: { kind: 'file', path: '/dev/null' },
  // Straight down onto a 12 m × 10 m strip of the floor starting at planX0.
  calibration: { image_points: square, plan_points: [[planX0, 0], [planX0 + 12, 0], [planX0 + 12, 10], [planX0, 10]] },
  ...extra,
});

function config(raw: Record<string, unknown>): GatewayConfig {
  const parsed = parseConfig(raw, {});
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.config;
}

function harness() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const clock = { now: T0 };
  const ctx = { log: pino({ level: 'info' }, stream), metrics: createMetrics(), now: () => clock.now };
  const events: PlanEvent[] = [];
  const samples: PlanTrackSample[] = [];
  const fusion = new LiveFusion({ ctx, record: (e) => events.push(e), onSamples: (s) => samples.push(...s), tickMs: 60_000 });
  return { fusion, ctx, clock, events, samples, lines };
}

/** A 30 × 80 px box standing at plan (x, y) in a camera whose strip starts at planX0. */
function boxAt(id: number, planX0: number, x: number, y: number) {
  const fx = ((x - planX0) / 12) * W;
  const fy = (y / 10) * H;
  return { id, box: { x1: fx - 15, y1: fy - 80, x2: fx + 15, y2: fy, score: 0.9 } };
}

const plan = { lines: [{ name: 'aisle', points: [[10, 0], [10, 10]] }], zones: [{ name: 'promo', polygon: [[9, 2], [11, 2], [11, 8], [9, 8]] }] };

describe('LiveFusion', () => {
  it('counts a person walking through two overlapping cameras once, records store-level events and sets the plan gauges', async () => {
    const h = harness();
    h.fusion.apply(config({ cameras: [camera('left', 0), camera('right', 8)], plan }));
    expect(h.fusion.enabled).toBe(true);
    for (let k = 0; k <= 160; k++) {
      const t = T0 + k * 100;
      const x = 2 + k * 0.1;
      h.clock.now = t + 150; // results arrive after the detector's latency
      if (x <= 12) h.fusion.onTracks('left', { timestampMs: t, width: W, height: H }, [boxAt(3, 0, x, 5)]);
      if (x >= 8) h.fusion.onTracks('right', { timestampMs: t, width: W, height: H }, [boxAt(8, 8, x, 5)]);
      h.fusion.tick();
    }
    const status = h.fusion.status();
    expect(status.fusion).toMatchObject({ storeTracks: 1, associations: 1 });
    expect(status.counts?.lines.aisle).toEqual({ in: 0, out: 1 });
    h.fusion.stop();
    expect(h.events.map((e) => e.type)).toEqual(['plan_line_crossing', 'plan_zone_visit']);
    expect(h.events[1]).toMatchObject({ zone: 'promo', counted: true });
    expect(new Set(h.samples.map((s) => s.trackId)).size).toBe(1);
    const metrics = await h.ctx.metrics.registry.getMetricsAsJSON();
    expect(metrics.find((m) => m.name === 'storepulse_plan_people')?.values[0]?.value).toBe(1);
    expect(h.lines.some((l) => l.msg === 'plan fusion on')).toBe(true);
  });

  it('leaves out foot points that are not on the floor, with a metric and a log line', async () => {
    const h = harness();
    // A camera looking towards the horizon: the floor's sides meet above y = 0.44 of the image.
    const steep = { id: 'steep', source: { kind: 'file', path: '/dev/null' }, calibration: { image_points: [[0.45, 0.5], [0.55, 0.5], [1, 1], [0, 1]], plan_points: [[0, 0], [10, 0], [10, 10], [0, 10]] } };
    h.fusion.apply(config({ cameras: [steep], plan }));
    h.fusion.onTracks('steep', { timestampMs: T0, width: W, height: H }, [{ id: 1, box: { x1: 300, y1: 0, x2: 340, y2: 60, score: 0.9 } }]);
    h.fusion.onTracks('steep', { timestampMs: T0 + 100, width: W, height: H }, [{ id: 1, box: { x1: 300, y1: 0, x2: 340, y2: 60, score: 0.9 } }]);
    const rejected = (await h.ctx.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'storepulse_plan_input_rejected_total');
    expect(rejected?.values).toEqual([expect.objectContaining({ labels: { camera: 'steep', reason: 'beyond_horizon' }, value: 2 })]);
    // One line per reason per minute, not one per frame.
    expect(h.lines.filter((l) => String(l.msg).includes('does not map onto the floor'))).toHaveLength(1);
  });

  it('leaves a camera with an unusable calibration out, says so, and keeps fusing the others', async () => {
    const h = harness();
    const collinear = camera('broken', 0, { calibration: { image_points: [[0, 0], [0.5, 0.5], [1, 1], [0, 1]], plan_points: [[0, 0], [5, 5], [10, 10], [0, 10]] } });
    h.fusion.apply(config({ cameras: [collinear, camera('ok', 0)], plan }));
    expect(h.fusion.status().cameras).toEqual(['ok']);
    expect(h.lines.some((l) => l.level === 50 && l.camera === 'broken')).toBe(true);
    const rejected = (await h.ctx.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'storepulse_plan_input_rejected_total');
    expect(rejected?.values).toEqual([expect.objectContaining({ labels: { camera: 'broken', reason: 'bad_calibration' }, value: 1 })]);
  });

  it('is off without a plan, and closes open visits when the plan changes', () => {
    const h = harness();
    h.fusion.apply(config({ cameras: [camera('left', 0)] }));
    expect(h.fusion.enabled).toBe(false);
    h.fusion.onTracks('left', { timestampMs: T0, width: W, height: H }, [boxAt(1, 0, 10, 5)]);
    expect(h.fusion.status().fusion).toBeNull();

    h.fusion.apply(config({ cameras: [camera('left', 0)], plan }));
    for (let k = 0; k <= 40; k++) {
      h.fusion.onTracks('left', { timestampMs: T0 + k * 100, width: W, height: H }, [boxAt(1, 0, 10, 5)]);
      h.fusion.tick();
    }
    // The same plan again: nothing restarts.
    h.fusion.apply(config({ cameras: [camera('left', 0)], plan }));
    expect(h.events).toEqual([]);
    // A new plan: the visit still open in "promo" is closed and recorded first.
    h.fusion.apply(config({ cameras: [camera('left', 0)], plan: { ...plan, zones: [] } }));
    expect(h.events).toEqual([expect.objectContaining({ type: 'plan_zone_visit', zone: 'promo', dwell_ms: 4000 })]);
  });
});

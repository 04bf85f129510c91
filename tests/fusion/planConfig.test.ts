import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import { kpiSettings } from '../../src/store/dataStore.js';

const calibration = { image_points: [[0.1, 0.3], [0.9, 0.3], [1, 0.9], [0, 0.9]], plan_points: [[2, 2], [26, 2], [26, 16], [2, 16]] };
const camera = (id: string, extra: Record<string, unknown> = {}) => ({ id, source: { kind: 'rtsp', url: `rtsp://10.0.0.5/${id}` }, ...extra });
const errorsOf = (raw: unknown): string[] => {
  const result = parseConfig(raw, {});
  return result.ok ? [] : result.errors;
};

describe('plan section of the gateway config', () => {
  it('accepts store-level lines and zones in metres and fills fusion defaults', () => {
    const result = parseConfig(
      {
        cameras: [camera('left', { calibration }), camera('right', { calibration })],
        floor_plan: { width_m: 30, height_m: 20 },
        plan: { lines: [{ name: 'entrance', points: [[5, 1], [5, 10]] }], zones: [{ name: 'promo', polygon: [[10, 2], [13, 2], [13, 8], [10, 8]], min_dwell_s: 5 }] },
      },
      {},
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.plan?.lines[0]).toEqual({ name: 'entrance', points: [[5, 1], [5, 10]], hysteresis: 0.3 });
    expect(result.config.plan?.zones[0]).toMatchObject({ name: 'promo', enter_s: 0.3, exit_grace_s: 1.5, min_dwell_s: 5, queue: false });
    expect(result.config.plan?.fusion).toEqual({
      gate_m: 1,
      break_gate_m: 2,
      break_after_s: 1,
      merge_after_s: 0.6,
      stale_s: 0.5,
      handover_s: 3,
      handover_speed_mps: 2,
      decision_delay_s: 1.5,
    });
  });

  it('reports every mistake with its path', () => {
    const errors = errorsOf({
      cameras: [camera('left', { calibration })],
      plan: {
        lines: [{ name: 'door', points: [[5, 1], [5, 1.1]] }, { name: 'door', points: [[-1, 0], [3, 0]] }],
        zones: [{ name: 'bow', polygon: [[0, 0], [2, 2], [2, 0], [0, 2]] }, { name: 'speck', polygon: [[0, 0], [0.1, 0], [0.1, 0.1]] }],
        fusion: { gate_m: 1.5, break_gate_m: 1 },
      },
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^plan\.lines\.0\.points: degenerate line: its points are less than 0\.3 m apart/),
        expect.stringMatching(/^plan\.lines\.1\.points\.0\.0: plan coordinates are metres/),
        expect.stringMatching(/^plan\.zones\.0\.polygon: self-intersecting polygon/),
        expect.stringMatching(/^plan\.zones\.1\.polygon: degenerate polygon: less than 0\.1 m²/),
        expect.stringMatching(/^plan\.fusion\.break_gate_m: must be at least gate_m/),
      ]),
    );
  });

  it('takes a plan line as the store entrance (counted once over all cameras), and refuses an unknown one', () => {
    const raw = (entrance: string) => ({
      cameras: [camera('left', { calibration }), camera('right', { calibration })],
      floor_plan: { width_m: 30, height_m: 20 },
      plan: { lines: [{ name: 'entrance', points: [[5, 1], [5, 10]] }] },
      kpi: { entrances: [{ plan_line: entrance }] },
    });
    const result = parseConfig(raw('entrance'), {});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(kpiSettings(result.config).entrances).toEqual([{ planLine: 'entrance' }]);
    expect(errorsOf(raw('nope'))).toEqual([expect.stringMatching(/^kpi\.entrances\.0\.plan_line: no line "nope" in plan\.lines/)]);
  });

  it('refuses duplicate names across plan lines and zones', () => {
    const errors = errorsOf({
      cameras: [camera('left', { calibration })],
      plan: { lines: [{ name: 'till', points: [[5, 1], [5, 10]] }], zones: [{ name: 'till', polygon: [[10, 2], [13, 2], [13, 8]] }] },
    });
    expect(errors).toEqual([expect.stringMatching(/^plan\.zones\.0\.name: duplicate name "till"/)]);
  });

  it('refuses plan geometry outside the floor plan, and plan counting without a calibrated camera', () => {
    expect(
      errorsOf({
        cameras: [camera('left', { calibration })],
        floor_plan: { width_m: 20, height_m: 10 },
        plan: { lines: [{ name: 'door', points: [[5, 1], [25, 1]] }], zones: [{ name: 'far', polygon: [[1, 1], [2, 1], [2, 12]] }] },
      }),
    ).toEqual([expect.stringMatching(/^plan\.lines\.0\.points: outside the 20 × 10 m floor plan/), expect.stringMatching(/^plan\.zones\.0\.polygon: outside the 20 × 10 m floor plan/)]);
    expect(errorsOf({ cameras: [camera('left')], plan: { lines: [{ name: 'door', points: [[5, 1], [5, 9]] }] } })).toEqual([
      expect.stringMatching(/^plan: plan lines and zones need at least one calibrated camera/),
    ]);
  });

  it('leaves configs without a plan as they were', () => {
    const result = parseConfig({ cameras: [camera('left')] }, {});
    expect(result.ok && result.config.plan).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { CameraPlanMapper } from '../../src/fusion/planMapping.js';
import { CalibrationError } from '../../src/vision/homography.js';

/** A camera looking down at an angle: the floor's far edge (top of the image) is narrower than its near edge. */
const calibration = {
  image_points: [[0.2, 0.3], [0.8, 0.3], [1, 0.9], [0, 0.9]] as [number, number][],
  plan_points: [[0, 0], [10, 0], [10, 8], [0, 8]] as [number, number][],
};
const W = 800;
const H = 600;
const box = (id: number, x1: number, y1: number, x2: number, y2: number) => ({ id, box: { x1, y1, x2, y2, score: 0.9 } });

describe('CameraPlanMapper', () => {
  const mapper = new CameraPlanMapper('cam', calibration);

  it('maps the calibration points onto their plan points', () => {
    calibration.image_points.forEach(([x, y], i) => {
      const p = mapper.toPlan(x, y)!;
      expect(p[0]).toBeCloseTo(calibration.plan_points[i]![0], 6);
      expect(p[1]).toBeCloseTo(calibration.plan_points[i]![1], 6);
    });
  });

  it('places a track at the bottom centre of its box', () => {
    // Bottom centre (400, 540) = (0.5, 0.9): the middle of the near edge, (5, 8) on the plan.
    const { observations, rejected } = mapper.mapTracks([box(7, 380, 440, 420, 540)], W, H);
    expect(rejected).toEqual([]);
    expect(observations).toHaveLength(1);
    expect(observations[0]!.localTrackId).toBe(7);
    expect(observations[0]!.x).toBeCloseTo(5, 6);
    expect(observations[0]!.y).toBeCloseTo(8, 6);
  });

  it('is less certain far from the camera and for boxes cut off by the frame edge', () => {
    const [near, far] = mapper.mapTracks([box(1, 380, 440, 420, 540), box(2, 390, 140, 410, 190)], W, H).observations;
    expect(far!.sigmaM).toBeGreaterThan(near!.sigmaM);
    const [whole, cut] = mapper.mapTracks([box(1, 300, 300, 340, 400), box(2, 0, 300, 40, 400)], W, H).observations;
    expect(cut!.sigmaM).toBeGreaterThan(3 * whole!.sigmaM);
  });

  it('rejects a foot point beyond the horizon instead of placing it on the wrong side of the plan', () => {
    // Where the floor's sides meet (the vanishing line) lies above the top of this image: find a point past it.
    const steep = new CameraPlanMapper('steep', { image_points: [[0.45, 0.5], [0.55, 0.5], [1, 1], [0, 1]], plan_points: [[0, 0], [10, 0], [10, 10], [0, 10]] });
    const { observations, rejected } = steep.mapTracks([box(3, 390, 0, 410, 60), box(4, 380, 500, 420, 590)], W, H);
    expect(rejected).toEqual([{ localTrackId: 3, reason: 'beyond_horizon' }]);
    expect(observations.map((o) => o.localTrackId)).toEqual([4]);
  });

  it('refuses a degenerate calibration with a clear error', () => {
    expect(() => new CameraPlanMapper('bad', { image_points: [[0, 0], [0.5, 0.5], [1, 1], [0, 1]], plan_points: calibration.plan_points })).toThrow(CalibrationError);
  });
});

/** What part of the floor plan a calibrated camera sees (drawn on the web UI's plan page). */
import { describe, expect, it } from 'vitest';
import { cameraFootprint, convexHull } from '../../src/fusion/cameraFootprint.js';

const sorted = (points: [number, number][]) => [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);

describe('camera footprint on the plan', () => {
  it('is the picture itself when the calibration maps it onto the plan without perspective', () => {
    // The picture's corners are the floor quad: the camera looks straight down on 2–8 × 2–6 m.
    const calibration = { image_points: [[0, 0], [1, 0], [1, 1], [0, 1]] as [number, number][], plan_points: [[2, 2], [8, 2], [8, 6], [2, 6]] as [number, number][] };
    expect(sorted(cameraFootprint('top', calibration, { width_m: 12, height_m: 9 }))).toEqual(sorted([[2, 2], [8, 2], [8, 6], [2, 6]]));
  });

  it('is cut at the plan’s edges, the plan’s corners included where the camera sees them', () => {
    const calibration = { image_points: [[0, 0], [1, 0], [1, 1], [0, 1]] as [number, number][], plan_points: [[-2, -2], [8, -2], [8, 6], [-2, 6]] as [number, number][] };
    const footprint = cameraFootprint('corner', calibration, { width_m: 12, height_m: 9 });
    expect(sorted(footprint)).toEqual(sorted([[0, 0], [8, 0], [8, 6], [0, 6]]));
  });

  it('stays finite and on the plan for a perspective camera whose picture reaches above the horizon', () => {
    // The floor quad is in the bottom 40 % of the picture and narrows quickly: the horizon is in the picture.
    const calibration = { image_points: [[0.3, 0.6], [0.7, 0.6], [0.95, 0.95], [0.05, 0.95]] as [number, number][], plan_points: [[2, 2], [8, 2], [8, 6], [2, 6]] as [number, number][] };
    const footprint = cameraFootprint('wall', calibration, { width_m: 12, height_m: 9 });
    expect(footprint.length).toBeGreaterThanOrEqual(3);
    for (const [x, y] of footprint) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(12);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(9);
    }
    // The calibrated quad is seen, so it lies within the footprint's extent.
    expect(Math.min(...footprint.map((p) => p[1]))).toBeLessThanOrEqual(2);
    expect(Math.max(...footprint.map((p) => p[1]))).toBeGreaterThanOrEqual(6);
  });

  it('is empty when the camera sees none of the plan', () => {
    const calibration = { image_points: [[0, 0], [1, 0], [1, 1], [0, 1]] as [number, number][], plan_points: [[20, 20], [28, 20], [28, 26], [20, 26]] as [number, number][] };
    expect(cameraFootprint('elsewhere', calibration, { width_m: 12, height_m: 9 })).toEqual([]);
  });

  it('hull drops inner and collinear points', () => {
    expect(sorted(convexHull([[0, 0], [2, 0], [1, 0], [2, 2], [0, 2], [1, 1]]))).toEqual(sorted([[0, 0], [2, 0], [2, 2], [0, 2]]));
  });
});

/**
 * The part of the floor plan a calibrated camera sees: its picture pushed through its homography,
 * cut at the horizon and at the plan's edges. Shown on the web UI's plan page so an installer draws
 * plan lines and zones where a camera actually looks (a zone nobody sees would count zero forever).
 * Pure.
 *
 * The picture below the horizon is convex, a homography maps it to a convex region of the floor, and
 * the plan rectangle is convex: so the footprint is the convex hull of the mapped picture points that
 * land on the plan, plus the plan's corners that the camera sees.
 */
import { applyHomography, computeHomography, type Pt } from '../vision/homography.js';
import { CameraPlanMapper, type PlanCalibration } from './planMapping.js';

export interface PlanBounds {
  width_m: number;
  height_m: number;
}

/** Samples per picture edge: the border decides the outline, so it is sampled finely. */
const EDGE_SAMPLES = 120;
/** An inner grid catches a footprint cut by the plan's edges where the border lies off the plan. */
const GRID_SAMPLES = 24;

/** Convex hull (Andrew's monotone chain); collinear points on its edges are dropped. */
export function convexHull(points: readonly [number, number][]): [number, number][] {
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (sorted.length < 3) return sorted;
  const cross = (o: [number, number], a: [number, number], b: [number, number]): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const half = (list: [number, number][]): [number, number][] => {
    const out: [number, number][] = [];
    for (const p of list) {
      while (out.length >= 2 && cross(out[out.length - 2]!, out[out.length - 1]!, p) <= 0) out.pop();
      out.push(p);
    }
    out.pop();
    return out;
  };
  return [...half(sorted), ...half([...sorted].reverse())];
}

/**
 * The camera's view of the floor as a polygon in plan metres (rounded to cm), or [] when none of it
 * lands on the plan (a calibration that puts the camera elsewhere).
 */
export function cameraFootprint(cameraId: string, calibration: PlanCalibration, bounds: PlanBounds): [number, number][] {
  const mapper = new CameraPlanMapper(cameraId, calibration);
  const onPlan = (p: [number, number] | undefined): p is [number, number] => p !== undefined && p[0] >= 0 && p[1] >= 0 && p[0] <= bounds.width_m && p[1] <= bounds.height_m;
  const points: [number, number][] = [];
  const add = (x: number, y: number): void => {
    const p = mapper.toPlan(x, y);
    if (onPlan(p)) points.push(p);
  };
  for (let i = 0; i <= EDGE_SAMPLES; i++) {
    const t = i / EDGE_SAMPLES;
    add(t, 0);
    add(t, 1);
    add(0, t);
    add(1, t);
  }
  for (let i = 1; i < GRID_SAMPLES; i++) for (let j = 1; j < GRID_SAMPLES; j++) add(i / GRID_SAMPLES, j / GRID_SAMPLES);
  // Plan corners inside the picture (and on the floor side of the horizon) are corners of the footprint.
  const back = computeHomography(
    calibration.plan_points.map(([x, y]): Pt => [x, y]),
    calibration.image_points.map(([x, y]): Pt => [x, y]),
  );
  const corners: [number, number][] = [
    [0, 0],
    [bounds.width_m, 0],
    [bounds.width_m, bounds.height_m],
    [0, bounds.height_m],
  ];
  for (const corner of corners) {
    const [u, v] = applyHomography(back, corner);
    if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) continue;
    const again = mapper.toPlan(u, v);
    // Beyond the horizon the inverse lands in the picture too, but the forward map then refuses it.
    if (again && Math.hypot(again[0] - corner[0], again[1] - corner[1]) < 0.01) points.push(corner);
  }
  const hull = convexHull(points.map(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]));
  return hull.length >= 3 ? hull : [];
}

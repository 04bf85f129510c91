/**
 * Plane-to-plane homography from four point pairs (camera image → floor plan), for placing the
 * heatmap and zones on a plan. Pure: solves the 8×8 direct linear system with h33 = 1.
 */

export type Pt = readonly [number, number];
/** Row-major 3×3, h[8] = 1. */
export type Homography = readonly number[];

export class CalibrationError extends Error {}

/** Gaussian elimination with partial pivoting; throws on a singular system (collinear points). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (Math.abs(m[pivot]![col]!) < 1e-12) throw new CalibrationError('the points are degenerate: no three of the four may lie on one line');
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / m[col]![col]!;
      for (let c = col; c <= n; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

export function computeHomography(from: readonly Pt[], to: readonly Pt[]): Homography {
  if (from.length !== 4 || to.length !== 4) throw new CalibrationError('calibration needs exactly 4 point pairs');
  const a: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!;
    const [u, v] = to[i]!;
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y]);
    b.push(u);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y]);
    b.push(v);
  }
  const h = [...solve(a, b), 1];
  if (h.some((x) => !Number.isFinite(x))) throw new CalibrationError('the points do not define a plane mapping');
  return h;
}

export function applyHomography(h: Homography, [x, y]: Pt): [number, number] {
  const w = h[6]! * x + h[7]! * y + h[8]!;
  return [(h[0]! * x + h[1]! * y + h[2]!) / w, (h[3]! * x + h[4]! * y + h[5]!) / w];
}

/**
 * Root-mean-square distance (in plan units) between where the homography sends each image point and
 * where the installer put it. With exactly four pairs this is ~0 unless the points are nearly
 * degenerate; with extra check points it measures the calibration honestly.
 */
export function reprojectionError(h: Homography, from: readonly Pt[], to: readonly Pt[]): number {
  let sum = 0;
  for (let i = 0; i < from.length; i++) {
    const [u, v] = applyHomography(h, from[i]!);
    sum += (u - to[i]![0]) ** 2 + (v - to[i]![1]) ** 2;
  }
  return Math.sqrt(sum / from.length);
}

/** Whether the mapping keeps the quadrilateral's orientation and stays finite over the image (not folded). */
export function isProperMapping(h: Homography, corners: readonly Pt[]): boolean {
  const w = corners.map(([x, y]) => h[6]! * x + h[7]! * y + h[8]!);
  return w.every((v) => v > 0) || w.every((v) => v < 0);
}

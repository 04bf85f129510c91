/**
 * One calibrated camera's tracks on the floor plan: each track's foot point (bottom centre of its
 * box) mapped through the camera's 4-point homography to metres, with an uncertainty in metres that
 * fusion uses to weight cameras against each other. Pure.
 */
import { applyHomography, computeHomography, type Homography, type Pt } from '../vision/homography.js';
import type { TrackedBox } from '../vision/tracking/frameTracker.js';

/** The camera's `calibration` from the gateway config: image points in 0–1, plan points in metres. */
export interface PlanCalibration {
  image_points: readonly (readonly [number, number])[];
  plan_points: readonly (readonly [number, number])[];
}

/** One camera's sighting of one of its tracks, on the plan. */
export interface PlanObservation {
  /** The camera tracker's id: local to that camera and to this session. */
  localTrackId: number;
  x: number;
  y: number;
  /** Standard deviation of the position in metres (larger far from the camera and for cut-off boxes). */
  sigmaM: number;
}

export type RejectReason = 'beyond_horizon' | 'not_finite';

export interface MappedTracks {
  observations: PlanObservation[];
  /** Tracks whose foot point has no place on the floor (bad calibration or a box in the sky). */
  rejected: { localTrackId: number; reason: RejectReason }[];
}

/**
 * A foot point is rarely better than a few pixels, and worse for big (near) boxes whose bottom edge
 * wobbles with the stride: 4 % of the box height, at least 2 px.
 */
const FOOT_SIGMA_OF_HEIGHT = 0.04;
const MIN_FOOT_SIGMA_PX = 2;
/** A box within this many pixels of the frame's edge is probably cut off there. */
const EDGE_MARGIN_PX = 2;

export class CameraPlanMapper {
  private readonly h: Homography;
  /** Sign of the homography's w on the calibrated floor: a point with the other sign lies beyond the horizon. */
  private readonly floorSign: number;

  constructor(
    readonly cameraId: string,
    calibration: PlanCalibration,
  ) {
    const from = calibration.image_points.map(([x, y]): Pt => [x, y]);
    this.h = computeHomography(from, calibration.plan_points.map(([x, y]): Pt => [x, y]));
    this.floorSign = Math.sign(this.w(from[0]![0], from[0]![1]));
  }

  /** Normalised image point (0–1) → plan metres, or undefined when it is not on the floor. */
  toPlan(x: number, y: number): [number, number] | undefined {
    if (Math.sign(this.w(x, y)) !== this.floorSign) return undefined;
    const p = applyHomography(this.h, [x, y]);
    return Number.isFinite(p[0]) && Number.isFinite(p[1]) ? p : undefined;
  }

  /** Maps one frame's tracks; `width`×`height` is the frame size the boxes are in. */
  mapTracks(tracks: readonly TrackedBox[], width: number, height: number): MappedTracks {
    const observations: PlanObservation[] = [];
    const rejected: MappedTracks['rejected'] = [];
    for (const t of tracks) {
      const { x1, x2, y2 } = t.box;
      const fx = (x1 + x2) / 2 / width;
      const fy = y2 / height;
      if (Math.sign(this.w(fx, fy)) !== this.floorSign) {
        rejected.push({ localTrackId: t.id, reason: 'beyond_horizon' });
        continue;
      }
      const p = this.toPlan(fx, fy);
      if (!p) {
        rejected.push({ localTrackId: t.id, reason: 'not_finite' });
        continue;
      }
      observations.push({ localTrackId: t.id, x: p[0], y: p[1], sigmaM: this.sigmaM(t, width, height, p) });
    }
    return { observations, rejected };
  }

  /**
   * Image-space uncertainty of the foot point pushed through the homography's local scale. A box cut
   * off by the left or right edge has its centre off by up to half its width, one cut off at the
   * bottom has no feet at all: such sightings count for little next to another camera's full view.
   */
  private sigmaM(t: TrackedBox, width: number, height: number, at: [number, number]): number {
    const { x1, y1, x2, y2 } = t.box;
    const base = Math.max(MIN_FOOT_SIGMA_PX, FOOT_SIGMA_OF_HEIGHT * (y2 - y1));
    let sx = base;
    let sy = base;
    if (x1 <= EDGE_MARGIN_PX || x2 >= width - EDGE_MARGIN_PX) sx += (x2 - x1) / 2;
    if (y2 >= height - EDGE_MARGIN_PX) sy += (y2 - y1) / 2;
    const fx = (x1 + x2) / 2 / width;
    const fy = y2 / height;
    const px = this.toPlan(fx + sx / width, fy);
    const py = this.toPlan(fx, fy + sy / height);
    // Near the horizon a pixel step can leave the floor: the position is then very uncertain.
    if (!px || !py) return 10;
    return Math.hypot(Math.hypot(px[0] - at[0], px[1] - at[1]), Math.hypot(py[0] - at[0], py[1] - at[1]));
  }

  private w(x: number, y: number): number {
    return this.h[6]! * x + this.h[7]! * y + this.h[8]!;
  }
}

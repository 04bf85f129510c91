/**
 * The one input of the journey core: a track's position on the floor plan (metres) at a time. It
 * comes either from store-level (fused) tracks or from one calibrated camera's tracks mapped through
 * its homography, so the core never needs to know which.
 */
import { applyHomography, computeHomography, type Homography, type Pt } from '../../vision/homography.js';
import type { TrackPoint } from '../../vision/analytics/trackPoint.js';

export interface PlanTrackSample {
  /** Unique within one sample stream (for camera tracks, the camera id is part of it). */
  trackId: string;
  tMs: number;
  x: number;
  y: number;
}

export interface CameraCalibration {
  image_points: readonly (readonly [number, number])[];
  plan_points: readonly (readonly [number, number])[];
}

/** One calibrated camera's foot points (normalised image coordinates) as plan samples. */
export class CameraToPlan {
  private readonly homography: Homography;
  /** Sign of the mapping's w on the calibrated floor; a point with the other sign lies beyond the horizon. */
  private readonly floorSign: number;
  /** Foot points that have no place on the floor (a box in the sky, a bad calibration). */
  rejected = 0;

  constructor(
    readonly camera: string,
    calibration: CameraCalibration,
  ) {
    const image = calibration.image_points.map(([x, y]): Pt => [x, y]);
    this.homography = computeHomography(image, calibration.plan_points.map(([x, y]): Pt => [x, y]));
    this.floorSign = Math.sign(this.w(image[0]![0], image[0]![1]));
  }

  samples(points: readonly TrackPoint[], tMs: number): PlanTrackSample[] {
    const out: PlanTrackSample[] = [];
    for (const p of points) {
      const [x, y] = applyHomography(this.homography, [p.x, p.y]);
      if (Math.sign(this.w(p.x, p.y)) !== this.floorSign || !Number.isFinite(x) || !Number.isFinite(y)) {
        this.rejected += 1;
        continue;
      }
      out.push({ trackId: `${this.camera}#${p.trackId}`, tMs, x, y });
    }
    return out;
  }

  private w(x: number, y: number): number {
    return this.homography[6]! * x + this.homography[7]! * y + this.homography[8]!;
  }
}

/**
 * The floor plan of PETS09-S2L1 (= vtest.avi) from its annotations: the MOT15 ground truth carries each
 * person's ground-plane position in metres (columns 8–9) beside the box, so a 4-point calibration and
 * plan zones over where people walk can be made from it. Evaluation-only data in ../shared: callers
 * check `hasPets09` first.
 */
import { readFileSync } from 'node:fs';
import type { Pt } from '../../src/vision/homography.js';
import { PETS09_GT_PATH } from '../helpers/fixtures.js';

export const PETS_WIDTH = 768;
export const PETS_HEIGHT = 576;
export const PETS_FRAME_MS = 100;
/** The ground plane goes down to about −20 m / −16.5 m: shifted so the plan starts at 0. */
const SHIFT: Pt = [20, 17];

export interface PetsRow {
  /** 0-based video frame (GT frame − 1). */
  videoFrame: number;
  id: number;
  /** Bottom centre of the box, normalised 0–1. */
  foot: Pt;
  /** Ground-plane position on the shifted plan, metres. */
  world: Pt;
}

export function petsRows(maxFrames = Infinity): PetsRow[] {
  return readFileSync(PETS09_GT_PATH, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [frame, id, x, y, w, h, , wx, wy] = line.split(',').map(Number) as number[];
      return { videoFrame: frame! - 1, id: id!, foot: [(x! + w! / 2) / PETS_WIDTH, (y! + h!) / PETS_HEIGHT] as Pt, world: [wx! + SHIFT[0], wy! + SHIFT[1]] as Pt };
    })
    .filter((r) => r.videoFrame < maxFrames);
}

/** As an installer would calibrate: four well-spread floor points whose plan position is known. */
export function petsCalibration(rows: readonly PetsRow[]): { image_points: Pt[]; plan_points: Pt[] } {
  const extreme = (score: (r: PetsRow) => number): PetsRow => rows.reduce((best, r) => (score(r) > score(best) ? r : best));
  const anchors = [extreme((r) => -r.foot[0] - r.foot[1]), extreme((r) => r.foot[0] - r.foot[1]), extreme((r) => r.foot[0] + r.foot[1]), extreme((r) => -r.foot[0] + r.foot[1])];
  return { image_points: anchors.map((r) => r.foot), plan_points: anchors.map((r) => r.world) };
}

const rect = (name: string, x0: number, y0: number, x1: number, y1: number) => ({ name, polygon: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]] as [number, number][] });

/** Five plan zones over the walked area (3 m cells with most annotated positions); funnel north → centre → south. */
export const PETS_ZONES = [rect('north', 6, 2, 15, 6), rect('west', 0, 3, 6, 9), rect('centre', 9, 6, 15, 12), rect('east', 15, 6, 27, 12), rect('south', 9, 12, 15, 21)];
export const PETS_FUNNEL = ['north', 'centre', 'south'];

/**
 * MOT-format ground truth lined up with a video's frames. MOT files number frames from 1 while the
 * decoder numbers them from 0, so `frameOffset` (default 1) says which ground-truth frame belongs to
 * video frame 0. Rows of classes other than pedestrian (MOT17's static person, person on a vehicle,
 * objects…) are dropped. Rows the MOT Challenge marks "not to be considered" (conf 0: e.g. the far,
 * tiny people of PETS09-S2L1) are kept apart: they are real people, so they count in the truth of
 * lines and zones, but tracking metrics neither reward nor punish hypotheses on them.
 */
import { readFile } from 'node:fs/promises';
import { motBoxToDetection, parseMot, type MotBox } from './motFormat.js';
import type { IdBox } from './motMetrics.js';

export class GroundTruthError extends Error {}

export interface GroundTruth {
  /** Annotated people to score, per 0-based video frame index; frames with nobody annotated are absent. */
  byVideoFrame: Map<number, IdBox[]>;
  /** People annotated as "not to be considered" by tracking metrics, per video frame. */
  ignoredByVideoFrame: Map<number, IdBox[]>;
  /** Last annotated video frame (0-based). */
  lastVideoFrame: number;
  trajectories: number;
  boxes: number;
}

const isPedestrian = (b: MotBox): boolean => b.classId === -1 || b.classId === 1;

export function alignGroundTruth(boxes: readonly MotBox[], frameOffset = 1): GroundTruth {
  const byVideoFrame = new Map<number, IdBox[]>();
  const ignoredByVideoFrame = new Map<number, IdBox[]>();
  const ids = new Set<number>();
  let lastVideoFrame = -1;
  let kept = 0;
  for (const b of boxes) {
    if (!isPedestrian(b)) continue;
    if (b.w <= 0 || b.h <= 0) throw new GroundTruthError(`ground truth frame ${b.frame}, id ${b.id}: box ${b.w}x${b.h} has no area`);
    const index = b.frame - frameOffset;
    if (index < 0) throw new GroundTruthError(`ground truth frame ${b.frame} comes before video frame 0 with frame offset ${frameOffset}`);
    const target = b.conf === 0 ? ignoredByVideoFrame : byVideoFrame;
    const list = target.get(index) ?? [];
    list.push({ id: b.id, box: motBoxToDetection(b) });
    target.set(index, list);
    lastVideoFrame = Math.max(lastVideoFrame, index);
    if (b.conf === 0) continue;
    ids.add(b.id);
    kept += 1;
  }
  if (kept === 0) throw new GroundTruthError('the ground truth has no person boxes');
  return { byVideoFrame, ignoredByVideoFrame, lastVideoFrame, trajectories: ids.size, boxes: kept };
}

export async function loadGroundTruth(file: string, frameOffset = 1): Promise<GroundTruth> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new GroundTruthError(`cannot read ground truth ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let boxes: MotBox[];
  try {
    boxes = parseMot(text);
  } catch (err) {
    throw new GroundTruthError(`${file} is not MOT ground truth: ${(err as Error).message}`);
  }
  return alignGroundTruth(boxes, frameOffset);
}

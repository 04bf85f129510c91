/**
 * Mean counting errors over many scenes, and over several recordings of the same sequence
 * (`npm run bench:accuracy -- --detections A.json,B.json --mean-seeds 1-16`): one scene's or one
 * recording's errors are noisy, so tracker settings are compared on these means.
 */
import type { Scene } from '../scene.js';
import { compareCounts } from './countComparison.js';
import type { GroundTruth } from './groundTruth.js';
import { countScene, groundTruthFrames, type TrackedSegment } from './sequenceEvaluation.js';

export interface MeanErrors {
  lineError: number;
  dwellError: number;
  visitError: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * A tracked segment's line, dwell and visit errors averaged over `scenes`: every scene counted on
 * the annotated trajectories and on the tracks (with the pipeline's foot points). A scene with
 * nothing to compare (no crossing, no visit) counts as 0.
 */
export function meanSceneErrors(gt: GroundTruth, segment: TrackedSegment, scenes: readonly Scene[], width: number, height: number): MeanErrors {
  if (scenes.length === 0) throw new Error('meanSceneErrors: no scenes');
  const truthFrames = groundTruthFrames(gt, segment.frames);
  const trackFrames = segment.frames.map((f, i) => ({ timestampMs: f.timestampMs, boxes: segment.tracks[i] ?? [] }));
  const errors = scenes.map((scene) => compareCounts(countScene(scene, truthFrames, width, height), countScene(scene, trackFrames, width, height, true)));
  return {
    lineError: mean(errors.map((e) => e.lineError ?? 0)),
    dwellError: mean(errors.map((e) => e.dwellError ?? 0)),
    visitError: mean(errors.map((e) => e.visitError ?? 0)),
  };
}

/** One tracker's mean errors on one segment, with its tracking figures when they were measured. */
export interface MeanRow extends MeanErrors {
  segment: string;
  tracker: string;
  mota?: number;
  idf1?: number;
}

/**
 * Rows of several recordings → one row per segment and tracker, each figure the mean over the
 * recordings (in the first recording's order). Every recording must have the same segments and
 * trackers; MOTA and IDF1 are averaged when every recording has them.
 */
export function meanOverRecordings(perRecording: readonly (readonly MeanRow[])[]): MeanRow[] {
  const first = perRecording[0];
  if (!first) throw new Error('meanOverRecordings: no recordings');
  const key = (r: MeanRow): string => `${r.segment}\u0000${r.tracker}`;
  const keys = first.map(key);
  if (new Set(keys).size !== keys.length) throw new Error('meanOverRecordings: a segment and tracker appear twice in a recording');
  for (const [i, rows] of perRecording.entries()) {
    const theirs = rows.map(key);
    if (theirs.length !== keys.length || theirs.some((k) => !keys.includes(k))) {
      throw new Error(`meanOverRecordings: recording ${i + 1} has other segments or trackers than recording 1`);
    }
  }
  return first.map((row) => {
    const same = perRecording.map((rows) => rows.find((r) => key(r) === key(row)) as MeanRow);
    const optional = (pick: (r: MeanRow) => number | undefined): number | undefined => {
      const values = same.map(pick);
      return values.every((v) => v !== undefined) ? mean(values as number[]) : undefined;
    };
    const mota = optional((r) => r.mota);
    const idf1 = optional((r) => r.idf1);
    return {
      segment: row.segment,
      tracker: row.tracker,
      lineError: mean(same.map((r) => r.lineError)),
      dwellError: mean(same.map((r) => r.dwellError)),
      visitError: mean(same.map((r) => r.visitError)),
      ...(mota !== undefined ? { mota } : {}),
      ...(idf1 !== undefined ? { idf1 } : {}),
    };
  });
}

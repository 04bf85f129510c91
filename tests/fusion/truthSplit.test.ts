/**
 * Fusion alone, without the detector: the annotated people of PETS09-S2L1 (= vtest.avi) cut into the
 * two overlapping crops of vtestSplit.ts, each crop a camera whose tracker is perfect (the annotated
 * ids), fused and counted on the plan, against the annotated people seen whole. Whatever differs is
 * fusion's own doing (association, hand-over, splits, merges, the fused position), at 10 fps and at
 * 5 fps: the vtest bench's 5 fps gap (bench:fusion-vtest) is then the detector and tracker seeing the
 * crops differently from the whole frame, not association. Needs ../shared's annotations (evaluation
 * only): skips without them. Runs in seconds (no video, no detector).
 */
import { describe, expect, it } from 'vitest';
import { CameraPlanMapper } from '../../src/fusion/planMapping.js';
import { loadGroundTruth, type GroundTruth } from '../../src/vision/eval/groundTruth.js';
import type { TrackedBox } from '../../src/vision/tracking/frameTracker.js';
import { hasPets09, PETS09_GT_PATH } from '../helpers/fixtures.js';
import { CROP_WIDTH, CROPS, cropCalibration, FRAME_HEIGHT, FRAME_WIDTH, fuseAndCount, totals, vtestPlan, wholeFrameCalibration, type CameraTracks } from './vtestSplit.js';

/** The video's 10 fps resampled to `fps`: frames numbered by their source frame, as the bench does. */
function annotatedFrames(gt: GroundTruth, fps: number): { tMs: number; tracks: TrackedBox[] }[] {
  const step = 10 / fps;
  const frames: { tMs: number; tracks: TrackedBox[] }[] = [];
  for (let f = 0; f <= gt.lastVideoFrame; f += step) {
    // People marked "not to be considered" are still people for lines and zones (as in `eval`).
    frames.push({ tMs: f * 100, tracks: [...(gt.byVideoFrame.get(f) ?? []), ...(gt.ignoredByVideoFrame.get(f) ?? [])] });
  }
  return frames;
}

/** One crop's view: boxes cut at its edges, in its pixels; a person at least half in the picture is seen. */
function cropView(frames: { tMs: number; tracks: TrackedBox[] }[], id: string, offsetX: number): CameraTracks {
  return {
    id,
    width: CROP_WIDTH,
    height: FRAME_HEIGHT,
    mapper: new CameraPlanMapper(id, cropCalibration(offsetX)),
    frames: frames.map((f) => ({
      tMs: f.tMs,
      tracks: f.tracks.flatMap((t) => {
        const x1 = Math.max(0, t.box.x1 - offsetX);
        const x2 = Math.min(CROP_WIDTH, t.box.x2 - offsetX);
        return x2 - x1 >= 0.5 * (t.box.x2 - t.box.x1) ? [{ ...t, box: { ...t.box, x1, x2 } }] : [];
      }),
    })),
  };
}

describe.skipIf(!hasPets09)('fusion of the annotated people cut into two overlapping cameras', () => {
  it.each([10, 5])('counts at %i fps what the whole frame counts (within 2 %)', async (fps) => {
    const gt = await loadGroundTruth(PETS09_GT_PATH, 1);
    const frames = annotatedFrames(gt, fps);
    const plan = vtestPlan();
    const whole = totals(fuseAndCount([{ id: 'whole', width: FRAME_WIDTH, height: FRAME_HEIGHT, mapper: new CameraPlanMapper('whole', wholeFrameCalibration()), frames }], plan).summary);
    const fused = fuseAndCount(
      CROPS.map((c) => cropView(frames, c.id, c.offsetX)),
      plan,
    );
    const t = totals(fused.summary);
    console.log(`${fps} fps: annotated people seen whole ${whole.crossings} crossings / ${whole.visits} visits; cut into two cameras and fused ${t.crossings} / ${t.visits}; ${JSON.stringify(fused.fusion)}`);
    // Measured: 234 / 121 both ways at 10 fps; 234 / 119 against 234 / 118 at 5 fps.
    expect(Math.abs(t.crossings - whole.crossings) / whole.crossings).toBeLessThanOrEqual(0.02);
    expect(Math.abs(t.visits - whole.visits) / whole.visits).toBeLessThanOrEqual(0.02);
    // People in the overlap are associated, never left as a second store track.
    expect(fused.fusion.associations).toBeGreaterThan(0);
    expect(fused.fusion.storeTracks).toBeLessThanOrEqual(gt.trajectories);
  });
});

/**
 * bench:accuracy over several recordings: the mean per segment and tracker of each recording's
 * means, and the per-scene means that feed it.
 */
import { describe, expect, it } from 'vitest';
import type { GroundTruth } from '../../src/vision/eval/groundTruth.js';
import { meanOverRecordings, meanSceneErrors, type MeanRow } from '../../src/vision/eval/meanErrors.js';
import type { TrackedSegment } from '../../src/vision/eval/sequenceEvaluation.js';
import { parseScene } from '../../src/vision/scene.js';

const row = (segment: string, tracker: string, line: number, dwell: number, visit: number, extra: Partial<MeanRow> = {}): MeanRow => ({
  segment,
  tracker,
  lineError: line,
  dwellError: dwell,
  visitError: visit,
  ...extra,
});

describe('meanOverRecordings', () => {
  it('averages each figure per segment and tracker, in the first recording\'s order', () => {
    const a = [row('whole', 'storepulse', 0.06, 0.05, 0.04, { mota: 0.8, idf1: 0.8 }), row('whole', 'iou', 0.2, 0.1, 0.3, { mota: 0.5, idf1: 0.4 })];
    // Same rows in another order: matched by segment and tracker, not by position.
    const b = [row('whole', 'iou', 0.4, 0.3, 0.1, { mota: 0.3, idf1: 0.6 }), row('whole', 'storepulse', 0.1, 0.07, 0.08, { mota: 0.7, idf1: 0.9 })];
    const means = meanOverRecordings([a, b]);
    expect(means.map((r) => [r.segment, r.tracker])).toEqual([['whole', 'storepulse'], ['whole', 'iou']]);
    expect(means[0]!.lineError).toBeCloseTo(0.08, 12);
    expect(means[0]!.dwellError).toBeCloseTo(0.06, 12);
    expect(means[0]!.visitError).toBeCloseTo(0.06, 12);
    expect(means[0]!.mota).toBeCloseTo(0.75, 12);
    expect(means[0]!.idf1).toBeCloseTo(0.85, 12);
    expect(means[1]!).toMatchObject({ segment: 'whole', tracker: 'iou' });
    expect(means[1]!.lineError).toBeCloseTo(0.3, 12);
    expect(means[1]!.idf1).toBeCloseTo(0.5, 12);
  });

  it('one recording gives its own rows back; MOTA/IDF1 only when every recording has them', () => {
    const a = [row('tuning', 'storepulse', 0.08, 0.06, 0.07, { idf1: 0.8 })];
    expect(meanOverRecordings([a])).toEqual(a);
    const b = [row('tuning', 'storepulse', 0.1, 0.06, 0.07)];
    const means = meanOverRecordings([a, b]);
    expect(means[0]!.idf1).toBeUndefined();
    expect(means[0]!.lineError).toBeCloseTo(0.09, 12);
  });

  it('refuses recordings that do not have the same segments and trackers, and an empty list', () => {
    const a = [row('whole', 'storepulse', 0.1, 0.1, 0.1), row('tuning', 'storepulse', 0.1, 0.1, 0.1)];
    expect(() => meanOverRecordings([a, [row('whole', 'storepulse', 0.1, 0.1, 0.1)]])).toThrow(/recording 2 has other segments or trackers/);
    expect(() => meanOverRecordings([a, [row('whole', 'storepulse', 0.1, 0.1, 0.1), row('held-out', 'storepulse', 0.1, 0.1, 0.1)]])).toThrow(/recording 2/);
    expect(() => meanOverRecordings([])).toThrow(/no recordings/);
  });
});

describe('meanSceneErrors', () => {
  // One person walking left to right across the frame, 10 frames; a vertical line in the middle.
  const W = 100;
  const H = 100;
  const boxAt = (i: number) => ({ x1: 5 + 9 * i, y1: 20, x2: 15 + 9 * i, y2: 60, score: 1 });
  const frames = Array.from({ length: 10 }, (_, i) => ({ videoFrame: i, timestampMs: i * 100, detections: [] }));
  const gt = {
    byVideoFrame: new Map(frames.map((f, i) => [f.videoFrame, [{ id: 1, box: boxAt(i) }]])),
    ignoredByVideoFrame: new Map(),
  } as unknown as GroundTruth;
  const line = parseScene({ lines: [{ name: 'mid', points: [[0.5, 0], [0.5, 1]] }] });

  it('is 0 when the tracks are the annotations and 100 % line error when nobody is tracked', () => {
    const tracked: TrackedSegment = {
      range: { name: 'whole', from: 0, to: 9 },
      frames,
      tracks: frames.map((_, i) => [{ id: 7, box: boxAt(i) }]),
      summary: {} as TrackedSegment['summary'],
      trackingMsPerFrame: 0,
    };
    const same = meanSceneErrors(gt, tracked, [line, line], W, H);
    expect(same.lineError).toBe(0);
    const nobody = meanSceneErrors(gt, { ...tracked, tracks: frames.map(() => []) }, [line], W, H);
    expect(nobody.lineError).toBe(1);
  });
});

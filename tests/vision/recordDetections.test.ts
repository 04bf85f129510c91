/**
 * The eval recording of frames decoded smaller than their source (`eval --decode gateway`): the
 * detector gets the small frame, the recording keeps boxes and size in source pixels, says what size
 * the frames were decoded at, and takes colour signatures where the boxes fall in the small frame.
 */
import { describe, expect, it } from 'vitest';
import type { Detection, RgbFrame } from '../../src/vision/detection.js';
import type { ScaledFrame } from '../../src/vision/detector/sourceScale.js';
import { readDetectionRecording, recordDetections, serializeRecording } from '../../src/vision/eval/sequenceEvaluation.js';
import type { FrameDetector } from '../../src/vision/pipeline/offlineAnalysis.js';
import { appearanceSignature } from '../../src/vision/tracking/appearance.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Left half red, right half blue. */
function twoColourFrame(index: number, width: number, height: number): RgbFrame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (x < width / 2) data[i] = 220;
      else data[i + 2] = 220;
    }
  }
  return { index, width, height, data, timestampMs: index * 100 };
}

async function* framesOf(frames: RgbFrame[]): AsyncGenerator<RgbFrame> {
  yield* frames;
}

/** Reports fixed boxes in source pixels and remembers the frame sizes it was given. */
function fixedDetector(boxes: Detection[]): FrameDetector & { seen: { width: number; height: number }[] } {
  const seen: { width: number; height: number }[] = [];
  return {
    seen,
    detect: (frame) => {
      seen.push({ width: frame.width, height: frame.height });
      return Promise.resolve(boxes.map((b) => ({ ...b })));
    },
  };
}

const RED_SOURCE = { x1: 40, y1: 40, x2: 120, y2: 200, score: 0.9 };
const BLUE_SOURCE = { x1: 240, y1: 40, x2: 320, y2: 200, score: 0.9 };

describe('recordDetections on frames decoded at the detector size', () => {
  it('keeps source pixels, records the decoded size and samples colours in the small frame', async () => {
    // 100×100 frames of a 400×400 source: 4 source pixels per frame pixel.
    const frames: ScaledFrame[] = [0, 1, 2].map((i) => ({ ...twoColourFrame(i, 100, 100), source: { width: 400, height: 400 } }));
    const detector = fixedDetector([RED_SOURCE, BLUE_SOURCE]);
    const recording = await recordDetections(framesOf(frames), detector);

    expect(detector.seen).toEqual([{ width: 100, height: 100 }, { width: 100, height: 100 }, { width: 100, height: 100 }]);
    expect([recording.width, recording.height]).toEqual([400, 400]);
    expect(recording.decoded).toEqual({ width: 100, height: 100 });
    expect(recording.frames.map((f) => f.videoFrame)).toEqual([0, 1, 2]);

    const [red, blue] = recording.frames[0]!.detections;
    expect(red).toMatchObject(RED_SOURCE);
    expect(blue).toMatchObject(BLUE_SOURCE);
    // The signature is the one of the box where it lies in the frame's own pixels.
    const frame = frames[0]!;
    expect(red!.appearance).toEqual(appearanceSignature(frame, { x1: 10, y1: 10, x2: 30, y2: 50, score: 0.9 }));
    expect(blue!.appearance).toEqual(appearanceSignature(frame, { x1: 60, y1: 10, x2: 80, y2: 50, score: 0.9 }));
    expect(red!.appearance).not.toEqual(blue!.appearance);
  });

  it('records full-size frames as before: decoded size = source size', async () => {
    const frames = [0, 1].map((i) => twoColourFrame(i, 400, 400));
    const recording = await recordDetections(framesOf(frames), fixedDetector([RED_SOURCE]));
    expect([recording.width, recording.height]).toEqual([400, 400]);
    expect(recording.decoded).toEqual({ width: 400, height: 400 });
    expect(recording.frames[0]!.detections[0]!.appearance).toEqual(appearanceSignature(frames[0]!, RED_SOURCE));
  });

  it('the decoded size survives --save-detections / --load-detections; a malformed one is refused', async () => {
    const frames: ScaledFrame[] = [{ ...twoColourFrame(0, 100, 100), source: { width: 400, height: 400 } }];
    const recording = await recordDetections(framesOf(frames), fixedDetector([RED_SOURCE]));
    const dir = await mkdtemp(path.join(tmpdir(), 'record-detections-'));
    const file = path.join(dir, 'rec.json');
    await writeFile(file, serializeRecording(recording));
    const loaded = await readDetectionRecording(file);
    expect(loaded.decoded).toEqual({ width: 100, height: 100 });
    expect(loaded.frames[0]!.detections[0]!.appearance).toEqual(recording.frames[0]!.detections[0]!.appearance);

    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...JSON.parse(serializeRecording(recording)), decoded: { width: 'x' } }));
    await expect(readDetectionRecording(bad)).rejects.toThrow(/"decoded" must give the decoded frame size/);
  });
});

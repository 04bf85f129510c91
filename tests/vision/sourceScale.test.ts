/**
 * Frames decoded at the detector's size (as the gateway's ffmpeg does) with boxes mapped back to the
 * source video's pixels: the geometry, the decoder, the detector and the offline pipeline.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Detection, RgbFrame } from '../../src/vision/detection.js';
import { PersonDetector } from '../../src/vision/detector/personDetector.js';
import { isScaledFrame, sourceScaleOf, sourceSizeOf, toFramePixels, type ScaledFrame } from '../../src/vision/detector/sourceScale.js';
import { analyzeFrames, withSourceAppearance } from '../../src/vision/pipeline/offlineAnalysis.js';
import { parseScene } from '../../src/vision/scene.js';
import { withAppearance } from '../../src/vision/tracking/appearance.js';
import { ByteTracker } from '../../src/vision/tracking/byteTracker.js';
import { readVideoFrames } from '../../src/vision/videoFrames.js';
import { hasVtest, VTEST_PATH, vtestFrames } from '../helpers/fixtures.js';

const blank = (width: number, height: number): RgbFrame => ({ index: 0, width, height, data: new Uint8Array(width * height * 3), timestampMs: 0 });

describe('source scale', () => {
  it('maps boxes between a scaled frame and its source per axis', () => {
    const frame: ScaledFrame = { ...blank(416, 416), source: { width: 768, height: 576 } };
    expect(isScaledFrame(frame)).toBe(true);
    expect(sourceSizeOf(frame)).toEqual({ width: 768, height: 576 });
    expect(sourceScaleOf(frame)).toEqual({ x: 768 / 416, y: 576 / 416 });
    const [box] = toFramePixels(frame, [{ x1: 768 / 2, y1: 576 / 4, x2: 768, y2: 576, score: 0.7 }]);
    expect(box?.x1).toBeCloseTo(208);
    expect(box?.y1).toBeCloseTo(104);
    expect(box?.x2).toBeCloseTo(416);
    expect(box?.y2).toBeCloseTo(416);
    expect(box?.score).toBe(0.7);
  });
  it('leaves plain frames at their own size', () => {
    const frame = blank(640, 480);
    expect(isScaledFrame(frame)).toBe(false);
    expect(sourceSizeOf(frame)).toEqual({ width: 640, height: 480 });
    const boxes = [{ x1: 1, y1: 2, x2: 3, y2: 4, score: 1 }];
    expect(toFramePixels(frame, boxes)).toEqual(boxes);
  });
});

describe('colour signatures of a scaled frame', () => {
  it('sample the same scene points as the source-size frame would', () => {
    // A 40x80 frame and its 2x nearest-neighbour enlargement: every sample of a source-pixel box
    // lands on the enlargement of the pixel the scaled frame samples.
    const small = blank(40, 80);
    for (let i = 0; i < small.data.length; i++) small.data[i] = (i * 53 + (i >> 4) * 29) & 255;
    const big = blank(80, 160);
    for (let y = 0; y < 160; y++) for (let x = 0; x < 80; x++) big.data.set(small.data.subarray(((y >> 1) * 40 + (x >> 1)) * 3, ((y >> 1) * 40 + (x >> 1)) * 3 + 3), (y * 80 + x) * 3);
    const scaled: ScaledFrame = { ...small, source: { width: 80, height: 160 } };
    const box: Detection = { x1: 10.4, y1: 20.2, x2: 60.9, y2: 150.3, score: 0.9 };
    const [fromScaled] = withSourceAppearance(scaled, [box]);
    const [fromSource] = withAppearance(big, [box]);
    expect(fromScaled?.appearance).toBeDefined();
    expect([...(fromScaled?.appearance ?? [])]).toEqual([...(fromSource?.appearance ?? [])]);
    expect({ ...fromScaled, appearance: undefined }).toEqual({ ...box, appearance: undefined }); // still in source pixels
  });
});

describe.skipIf(!hasVtest)('detector on frames decoded at its input size', () => {
  it('reports the same boxes, in source pixels, as for the full frame resized to the same pixels', async () => {
    const [full] = await vtestFrames([100]);
    if (!full) throw new Error('no frame');
    const detector = await PersonDetector.create({ scoreThreshold: 0.1 });
    try {
      const { width, height } = detector.manifest.input;
      // The pixels the full-size path feeds the model, handed over as an already-scaled frame.
      const data = await sharp(full.data, { raw: { width: full.width, height: full.height, channels: 3 } })
        .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
        .raw()
        .toBuffer();
      const scaled: ScaledFrame = { index: 0, width, height, data: new Uint8Array(data), timestampMs: 0, source: { width: full.width, height: full.height } };
      const fromFull = await detector.detect(full);
      const fromScaled = await detector.detect(scaled);
      expect(fromFull.length).toBeGreaterThan(3);
      expect(fromScaled).toEqual(fromFull);
      expect(Math.max(...fromScaled.map((d) => d.x2))).toBeGreaterThan(width); // source pixels, not model pixels
      expect(Math.max(...fromScaled.map((d) => d.x2))).toBeLessThanOrEqual(full.width);
    } finally {
      await detector.close();
    }
  });

  it('decodes vtest.avi at the size the gateway decodes for each kind of model input', async () => {
    const first = async (detectorInput: { width: number; height: number; resize: 'stretch' | 'letterbox' }): Promise<RgbFrame> => {
      for await (const f of readVideoFrames(VTEST_PATH, { detectorInput, maxFrames: 1 })) return f;
      throw new Error('no frame');
    };
    const stretched = await first({ width: 416, height: 416, resize: 'stretch' });
    expect([stretched.width, stretched.height, stretched.data.length]).toEqual([416, 416, 416 * 416 * 3]);
    expect(sourceSizeOf(stretched)).toEqual({ width: 768, height: 576 });
    const letterboxed = await first({ width: 416, height: 416, resize: 'letterbox' });
    expect([letterboxed.width, letterboxed.height]).toEqual([416, 312]);
    expect(sourceSizeOf(letterboxed)).toEqual({ width: 768, height: 576 });
    const native = await first({ width: 768, height: 576, resize: 'stretch' });
    expect(isScaledFrame(native)).toBe(false);
  });
});

describe('offline pipeline on scaled frames', () => {
  it('tracks and counts in source pixels', async () => {
    async function* frames(): AsyncGenerator<ScaledFrame> {
      for (let i = 0; i < 12; i++) yield { ...blank(100, 100), index: i, timestampMs: i * 100, source: { width: 800, height: 400 } };
    }
    // A person walking right in source pixels, far outside the 100x100 decoded frame.
    const detector = { detect: (f: RgbFrame) => Promise.resolve([{ x1: 300 + 10 * f.index, y1: 100, x2: 360 + 10 * f.index, y2: 300, score: 0.9 }]) };
    const boxes: Detection[] = [];
    const result = await analyzeFrames(frames(), parseScene({ lines: [], zones: [] }), detector, new ByteTracker(), {
      onTracks: (_f, tracks) => boxes.push(...tracks.map((t) => t.box)),
    });
    expect([result.frameWidth, result.frameHeight]).toEqual([800, 400]);
    expect(boxes.length).toBeGreaterThan(0);
    const last = boxes[boxes.length - 1];
    expect(last?.x1).toBeGreaterThan(350);
    expect(last?.y2).toBeCloseTo(300, 0);
  });
});

/**
 * The two-camera split of vtest.avi (issue 16): the whole frame as one reference camera, and its
 * left 60 % and right 60 % (ffmpeg `crop`) as two overlapping cameras, all calibrated onto one
 * floor plan in metres; detection + ByteTracker per camera, then plan mapping, fusion and plan-level
 * counting exactly as the gateway would run them.
 *
 * The plan: vtest has no published floor calibration we may use, so the whole frame is mapped by a
 * hand-picked homography that is plausible for its elevated view — the walkway's far edge
 * (y = 150 px, x 120–648) and a near line on the lawn (y = 520 px, x 0–768) are taken as a
 * 24 m × 14 m rectangle, i.e. (120,150)→(2,2), (648,150)→(26,2), (768,520)→(26,16), (0,520)→(2,16).
 * People 60–90 px tall then measure ~1.7 m at 20–30 px/m, and walk at 1–1.5 m/s. Each crop's
 * calibration is the same floor expressed in the crop's own pixels: four points inside the crop,
 * shifted by the crop's offset, sent through the whole-frame homography — what an installer clicking
 * the same floor marks in each camera's view would get.
 */
import { spawn } from 'node:child_process';
import { PlanCounter, type PlanSummary } from '../../src/fusion/planCounting.js';
import { planSchema, type PlanConfig } from '../../src/fusion/planConfigSchema.js';
import { CameraPlanMapper, type PlanCalibration } from '../../src/fusion/planMapping.js';
import { fusionOptions, StoreFuser, type FusionStats } from '../../src/fusion/storeFuser.js';
import { PersonDetector } from '../../src/vision/detector/personDetector.js';
import { recordDetections, trackSegment, type DetectionRecording } from '../../src/vision/eval/sequenceEvaluation.js';
import { applyHomography, computeHomography, type Pt } from '../../src/vision/homography.js';
import { ByteTracker } from '../../src/vision/tracking/byteTracker.js';
import type { TrackedBox } from '../../src/vision/tracking/frameTracker.js';
import { readVideoFrames } from '../../src/vision/videoFrames.js';

export const FRAME_WIDTH = 768;
export const FRAME_HEIGHT = 576;
/** 60 % of 768, even (x264 wants even sizes). */
export const CROP_WIDTH = 460;
export const CROPS = [
  { id: 'left', offsetX: 0 },
  { id: 'right', offsetX: FRAME_WIDTH - CROP_WIDTH },
] as const;

const IMAGE_QUAD: Pt[] = [[120, 150], [648, 150], [768, 520], [0, 520]];
const PLAN_QUAD: Pt[] = [[2, 2], [26, 2], [26, 16], [2, 16]];
const WHOLE_FRAME_TO_PLAN = computeHomography(IMAGE_QUAD, PLAN_QUAD);

/** Whole-frame pixel → plan metres (the reference homography). */
export function wholeFrameToPlan(x: number, y: number): [number, number] {
  return applyHomography(WHOLE_FRAME_TO_PLAN, [x, y]);
}

/** The whole camera's calibration, in the config's form (image points 0–1). */
export function wholeFrameCalibration(): PlanCalibration {
  return { image_points: IMAGE_QUAD.map(([x, y]) => [x / FRAME_WIDTH, y / FRAME_HEIGHT] as [number, number]), plan_points: PLAN_QUAD };
}

/**
 * A crop's calibration: four floor points inside the crop, located on the plan through the
 * whole-frame mapping. The top-left point stays right of x = 100 px, where the plan's x is still
 * positive (the config only takes plan points ≥ 0).
 */
export function cropCalibration(offsetX: number): PlanCalibration {
  const inCrop: Pt[] = [[100, 160], [CROP_WIDTH - 30, 160], [CROP_WIDTH - 30, 500], [30, 500]];
  return {
    image_points: inCrop.map(([x, y]) => [x / CROP_WIDTH, y / FRAME_HEIGHT] as [number, number]),
    plan_points: inCrop.map(([x, y]) => wholeFrameToPlan(x + offsetX, y)),
  };
}

/**
 * Plan lines and zones spread over where people walk (plan y ≈ 2–12 m), not one hand-placed pair:
 * lines across the walkway every 2–2.5 m over the left-only (x < 10.5), overlap (≈ 10.5–17.5) and
 * right-only parts of the floor, three lines along it, and a row of zones plus one in front.
 * Lines keep ≥ 1.5 m from the static objects the detector fires on (field notes: the sign at
 * (4.9, 5.0), the lamp-post sign at (15.8, 6.6), the easel at (16.8, 3.5) on this plan): their
 * jittering boxes cross a line back and forth, differently in each view, which measures the
 * detector's clutter, not fusion.
 */
export function vtestPlan(): PlanConfig {
  const lines = [6.5, 9, 11.5, 13.5, 18.5, 21, 23.5].map((x) => ({ name: `cross-${x}`, points: [[x, 1], [x, 12]] }));
  for (const y of [8.5, 10, 11.5]) lines.push({ name: `along-${y}`, points: [[3, y], [25, y]] });
  const zones = [[3, 7], [7, 10], [10, 13], [13, 16], [16, 19], [19, 23]].map(([x0, x1]) => ({
    name: `zone-${x0}-${x1}`,
    polygon: [[x0, 2], [x1, 2], [x1, 8], [x0, 8]],
  }));
  zones.push({ name: 'zone-near', polygon: [[6, 8], [20, 8], [20, 11], [6, 11]] });
  return planSchema.parse({ lines, zones });
}

export function cropVideo(source: string, offsetX: number, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', source, '-vf', `crop=${CROP_WIDTH}:${FRAME_HEIGHT}:${offsetX}:0`, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '14', target];
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg crop failed: ${stderr.trim()}`))));
  });
}

export async function detectVideo(file: string, fps: number): Promise<DetectionRecording> {
  // The tracker's second stage needs the weak detections: record down to its low score, as `eval` does.
  const detector = await PersonDetector.create({ scoreThreshold: new ByteTracker().options.lowScore });
  try {
    // Frames are resampled: number them by their source frame (10 fps), as `storepulse eval --fps` does.
    return await recordDetections(readVideoFrames(file, { fps }), detector, (f) => Math.round(f.timestampMs / 100));
  } finally {
    await detector.close();
  }
}

export interface CameraTracks {
  id: string;
  width: number;
  height: number;
  mapper: CameraPlanMapper;
  frames: { tMs: number; tracks: TrackedBox[] }[];
}

/** The recording replayed through the real tracker (the same loop `storepulse analyze` runs). */
export async function trackRecording(id: string, recording: DetectionRecording, calibration: PlanCalibration): Promise<CameraTracks> {
  const last = recording.frames[recording.frames.length - 1]!.videoFrame;
  const segment = await trackSegment(recording, { name: id, from: 0, to: last }, { lines: [], zones: [] }, new ByteTracker());
  return {
    id,
    width: recording.width,
    height: recording.height,
    mapper: new CameraPlanMapper(id, calibration),
    frames: segment.frames.map((f, i) => ({ tMs: f.timestampMs, tracks: segment.tracks[i]! })),
  };
}

export interface PlanRun {
  summary: PlanSummary;
  fusion: FusionStats;
  /** Fused positions released, for checks on the tracks themselves. */
  samples: number;
}

/** Fuses the cameras frame by frame (they share one clock: the video's) and counts on the plan. */
export function fuseAndCount(cameras: readonly CameraTracks[], plan: PlanConfig): PlanRun {
  const fuser = new StoreFuser(fusionOptions(plan.fusion));
  const counter = new PlanCounter(plan);
  const frames = cameras[0]!.frames.length;
  for (const c of cameras) if (c.frames.length !== frames) throw new Error(`camera ${c.id} has ${c.frames.length} frames, ${cameras[0]!.id} ${frames}`);
  let samples = 0;
  for (let i = 0; i < frames; i++) {
    const tMs = cameras[0]!.frames[i]!.tMs;
    for (const c of cameras) {
      const f = c.frames[i]!;
      if (Math.abs(f.tMs - tMs) > 1) throw new Error(`frame ${i}: camera ${c.id} at ${f.tMs} ms, ${cameras[0]!.id} at ${tMs} ms`);
      fuser.ingest({ cameraId: c.id, tMs, observations: c.mapper.mapTracks(f.tracks, c.width, c.height).observations });
    }
    const released = fuser.tick(tMs);
    samples += released.reduce((n, t) => n + t.positions.length, 0);
    counter.update(released);
  }
  const rest = fuser.flush();
  samples += rest.reduce((n, t) => n + t.positions.length, 0);
  counter.update(rest);
  counter.finish();
  return { summary: counter.summary(), fusion: { ...fuser.stats }, samples };
}

export interface Totals {
  crossings: number;
  visits: number;
}

export function totals(summary: PlanSummary, names?: { lines: string[]; zones: string[] }): Totals {
  const lines = Object.entries(summary.lines).filter(([n]) => !names || names.lines.includes(n));
  const zones = Object.entries(summary.zones).filter(([n]) => !names || names.zones.includes(n));
  return {
    crossings: lines.reduce((s, [, c]) => s + c.in + c.out, 0),
    visits: zones.reduce((s, [, z]) => s + z.visits, 0),
  };
}

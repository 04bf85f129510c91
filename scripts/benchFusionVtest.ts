/**
 * npm run bench:fusion-vtest [-- --fps 10 --detections DIR] [--json]
 *
 * The two-camera split of vtest.avi (issue 16; the same scenario as tests/fusion/vtestTwoCameras.test.ts,
 * tests/fusion/vtestSplit.ts): the left 60 % and right 60 % of the frame as two overlapping cameras
 * calibrated onto one plan, through the default detector and ByteTracker, fused and counted on plan
 * lines and zones; against the whole frame as one camera on the same lines and zones, against the naive
 * sum of both cameras, and — when ../shared holds the PETS09-S2L1 annotations (evaluation only) —
 * against the annotated people mapped through the whole-frame calibration.
 *
 * --detections DIR keeps each video's detections there (whole-<fps>.json, left-<fps>.json,
 * right-<fps>.json) and reuses them on the next run: the detector is the slow part (~1 min per video
 * at 10 fps on 2 idle cores). Without it a temp dir is used and removed.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadGroundTruth } from '../src/vision/eval/groundTruth.js';
import { groundTruthFrames, readDetectionRecording, serializeRecording, type DetectionRecording } from '../src/vision/eval/sequenceEvaluation.js';
import { PETS09_GT_PATH, VTEST_PATH } from '../tests/helpers/fixtures.js';
import {
  CROPS,
  cropCalibration,
  cropVideo,
  detectVideo,
  fuseAndCount,
  totals,
  trackRecording,
  vtestPlan,
  wholeFrameCalibration,
  type CameraTracks,
  type PlanRun,
} from '../tests/fusion/vtestSplit.js';

const { values } = parseArgs({ options: { fps: { type: 'string', default: '10' }, detections: { type: 'string' }, json: { type: 'boolean', default: false } } });
const fps = Number(values.fps);
if (!existsSync(VTEST_PATH)) throw new Error(`${VTEST_PATH} not found (Debian package opencv-doc)`);

const work = await mkdtemp(path.join(os.tmpdir(), 'storepulse-fusion-vtest-'));
const cache = values.detections ? path.resolve(values.detections) : work;
await mkdir(cache, { recursive: true });

async function detections(name: string, video: () => Promise<string>): Promise<DetectionRecording> {
  const file = path.join(cache, `${name}-${fps}.json`);
  if (existsSync(file)) return readDetectionRecording(file);
  const t0 = Date.now();
  const recording = await detectVideo(await video(), fps);
  console.error(`${name}: ${recording.frames.length} frames detected in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  await writeFile(file, serializeRecording(recording));
  return recording;
}

try {
  const wholeRecording = await detections('whole', async () => VTEST_PATH);
  const whole = await trackRecording('whole', wholeRecording, wholeFrameCalibration());
  const crops: CameraTracks[] = [];
  for (const c of CROPS) {
    const recording = await detections(c.id, async () => {
      const file = path.join(work, `${c.id}.mkv`);
      await cropVideo(VTEST_PATH, c.offsetX, file);
      return file;
    });
    crops.push(await trackRecording(c.id, recording, cropCalibration(c.offsetX)));
  }
  const plan = vtestPlan();
  const single = fuseAndCount([whole], plan);
  const fused = fuseAndCount(crops, plan);
  const perCamera = crops.map((c) => fuseAndCount([c], plan));
  let truth: PlanRun | undefined;
  if (existsSync(PETS09_GT_PATH)) {
    const gt = await loadGroundTruth(PETS09_GT_PATH, 1);
    const frames = groundTruthFrames(gt, wholeRecording.frames).map((f) => ({ tMs: f.timestampMs, tracks: [...f.boxes] }));
    truth = fuseAndCount([{ ...whole, id: 'truth', frames }], plan);
  }

  const lineCount = (run: PlanRun, name: string): number => run.summary.lines[name]!.in + run.summary.lines[name]!.out;
  const rows = [
    ...plan.lines.map((l) => ({ kind: 'line crossings', name: l.name, of: (run: PlanRun) => lineCount(run, l.name) })),
    ...plan.zones.map((z) => ({ kind: 'zone visits', name: z.name, of: (run: PlanRun) => run.summary.zones[z.name]!.visits })),
  ].map((r) => ({
    kind: r.kind,
    name: r.name,
    truth: truth ? r.of(truth) : null,
    single: r.of(single),
    fused: r.of(fused),
    naive: perCamera.reduce((n, p) => n + r.of(p), 0),
    per_camera: perCamera.map((p) => r.of(p)),
  }));
  const sum = (a: ReturnType<typeof totals>, b: ReturnType<typeof totals>) => ({ crossings: a.crossings + b.crossings, visits: a.visits + b.visits });
  const result = {
    fps,
    frames: whole.frames.length,
    totals: {
      truth: truth ? totals(truth.summary) : null,
      single: totals(single.summary),
      fused: totals(fused.summary),
      naive: perCamera.map((p) => totals(p.summary)).reduce(sum),
    },
    fusion: fused.fusion,
    rows,
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    const rel = (m: number, ref: number): string => `${m >= ref ? '+' : ''}${((100 * (m - ref)) / ref).toFixed(1)} %`;
    console.log(`vtest.avi split in two overlapping cameras, ${fps} fps, ${result.frames} frames`);
    console.log('| line / zone | truth | single camera | fused (2 cameras) | naive sum (left + right) |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.name} | ${r.truth ?? 'n/a'} | ${r.single} | ${r.fused} | ${r.naive} (${r.per_camera.join(' + ')}) |`);
    const t = result.totals;
    for (const k of ['crossings', 'visits'] as const) {
      console.log(
        `| **all ${k}** | ${t.truth ? t.truth[k] : 'n/a'} | ${t.single[k]} | ${t.fused[k]} (${rel(t.fused[k], t.single[k])}) | ${t.naive[k]} (${rel(t.naive[k], t.single[k])}) |`,
      );
    }
    console.log(`fusion: ${JSON.stringify(fused.fusion)}; store tracks of the single camera ${single.fusion.storeTracks}, of left / right alone ${perCamera.map((p) => p.fusion.storeTracks).join(' / ')}`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

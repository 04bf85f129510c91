/**
 * `storepulse eval --source VIDEO --gt gt.txt --scene SCENE`: how accurate the pipeline is on an
 * annotated recording — detector AP50, tracking MOTA/IDF1, and every line's and zone's figures
 * against the same figures computed from the annotated trajectories, for the whole sequence and
 * its two halves, plus seeded random lines and zones over the walkable area.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { PersonDetector } from '../vision/detector/personDetector.js';
import type { CountComparison, Compared } from '../vision/eval/countComparison.js';
import { GroundTruthError, loadGroundTruth } from '../vision/eval/groundTruth.js';
import { randomScene } from '../vision/eval/randomScene.js';
import {
  readDetectionRecording,
  serializeRecording,
  recordDetections,
  RecordingError,
  scoreSegment,
  standardSegments,
  trackSegment,
  walkableFootPoints,
  type DetectionRecording,
  type SegmentReport,
} from '../vision/eval/sequenceEvaluation.js';
import { loadScene, SceneError, type Scene } from '../vision/scene.js';
import { ByteTracker } from '../vision/tracking/byteTracker.js';
import { probeVideo, readVideoFrames, VideoError } from '../vision/videoFrames.js';
import { EVAL } from './commandSpecs.js';
import { CliError, parsePositiveInt } from './errors.js';
import { parseCommandArgs, usageLine } from './options.js';

export const EVAL_USAGE = usageLine(EVAL);

export async function evalCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandArgs(EVAL, argv);
  if (positionals.length > 0 || !values.gt || !values.scene || (!values.source && !values['load-detections'])) throw new CliError(EVAL_USAGE, 2);
  if (values.source && !existsSync(values.source)) throw new CliError(`no such file: ${values.source}`);
  const frameOffset = parseInteger('frame-offset', values['frame-offset']);
  const fps = parsePositiveInt('fps', values.fps);
  const randomLines = parseInteger('random-lines', values['random-lines']);
  const randomZones = parseInteger('random-zones', values['random-zones']);
  const seed = parseInteger('seed', values.seed);
  const decode = parseDecode(values.decode);
  if (values.decode !== undefined && values['load-detections']) {
    throw new CliError('--decode applies when detecting --source; a recording loaded with --load-detections keeps how it was decoded', 2);
  }

  let scene: Scene;
  try {
    scene = await loadScene(values.scene);
  } catch (err) {
    if (err instanceof SceneError) throw new CliError(`invalid scene ${values.scene}:\n  ${err.problems.join('\n  ')}`);
    throw err;
  }
  let gt;
  try {
    gt = await loadGroundTruth(values.gt, frameOffset);
  } catch (err) {
    if (err instanceof GroundTruthError) throw new CliError(err.message);
    throw err;
  }

  const tracker = new ByteTracker();
  let recording: DetectionRecording;
  if (values['load-detections']) {
    recording = await loadRecording(values['load-detections']);
  } else {
    recording = await detectAll(values.source as string, { fps, model: values.model, threads: parsePositiveInt('threads', values.threads), lowScore: tracker.options.lowScore, decode });
  }
  if (values['save-detections']) await writeFile(values['save-detections'], serializeRecording(recording));

  const lastFrame = Math.max(...recording.frames.map((f) => f.videoFrame));
  // With --fps the decoded frames are a subsample: allow the annotations to run one step further.
  const step = recording.frames.length > 1 ? lastFrame / (recording.frames.length - 1) : 1;
  if (gt.lastVideoFrame > lastFrame + step) {
    throw new CliError(
      `the ground truth annotates video frame ${gt.lastVideoFrame} but the video ends at frame ${lastFrame}: wrong file or wrong --frame-offset (${frameOffset})?`,
    );
  }
  const random = randomLines + randomZones > 0
    ? randomScene(walkableFootPoints(gt, recording.width, recording.height), { seed, lines: randomLines, zones: randomZones })
    : undefined;

  const reports: SegmentReport[] = [];
  for (const range of standardSegments(lastFrame)) {
    const segment = await trackSegment(recording, range, scene, new ByteTracker());
    reports.push(scoreSegment(recording, gt, segment, scene, random));
  }
  const result = {
    source: values.source ?? values['load-detections'],
    frames: recording.frames.length,
    frame_size: [recording.width, recording.height],
    // How the detector's frames were decoded (null: replayed detections); decoded_size is the frames' own size.
    decode: values['load-detections'] ? null : decode,
    decoded_size: recording.decoded ? [recording.decoded.width, recording.decoded.height] : null,
    ground_truth: { file: values.gt, trajectories: gt.trajectories, boxes: gt.boxes, frame_offset: frameOffset },
    random_scene: random ? { seed, lines: randomLines, zones: randomZones } : null,
    detect_ms_per_frame: round(recording.detectMsPerFrame, 2),
    segments: reports,
  };
  if (values.json) out(JSON.stringify(result));
  else {
    const decodedLine = describeDecode(recording, values['load-detections'] ? undefined : decode);
    if (decodedLine) out(decodedLine);
    for (const line of formatReport(reports)) out(line);
  }
}

/** How frames reach the detector: `full` (analyze's path) or `gateway` (the gateway's ffmpeg decode at the detector's size). */
export type DecodeMode = 'full' | 'gateway';
const DECODE_MODES: readonly DecodeMode[] = ['full', 'gateway'];

export function parseDecode(value: string | undefined): DecodeMode {
  if (value === undefined) return 'full';
  const mode = DECODE_MODES.find((m) => m === value);
  if (!mode) throw new CliError(`--decode must be gateway or full, got "${value}"`, 2);
  return mode;
}

function describeDecode(recording: DetectionRecording, decode: DecodeMode | undefined): string | undefined {
  const d = recording.decoded;
  if (!d) return undefined;
  const size = `${d.width}×${d.height}`;
  const source = `${recording.width}×${recording.height}`;
  const how = decode === 'gateway'
    ? "--decode gateway: ffmpeg's area scaler at the detector's input, as the gateway decodes"
    : decode === 'full'
      ? '--decode full: resized for the detector by sharp'
      : 'replayed detections';
  return `frames decoded at ${size} (${how}); boxes in the video's ${source} pixels`;
}

function parseInteger(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`--${name} must be a non-negative integer, got "${value}"`, 2);
  return n;
}

async function detectAll(
  source: string,
  o: { fps?: number; model?: string; threads?: number; lowScore: number; decode: DecodeMode },
): Promise<DetectionRecording> {
  let sourceFps: number;
  try {
    sourceFps = (await probeVideo(source)).fps;
  } catch (err) {
    if (err instanceof VideoError) throw new CliError(err.message);
    throw err;
  }
  // The tracker's second stage needs the weak detections: record everything down to its low score.
  const detector = await PersonDetector.create({ model: o.model, threads: o.threads, scoreThreshold: o.lowScore });
  try {
    // Resampled frames are matched to annotated frames by their presentation time.
    const videoFrameOf = o.fps && sourceFps > 0 ? (f: { timestampMs: number }) => Math.round((f.timestampMs / 1000) * sourceFps) : undefined;
    // gateway: ffmpeg scales to the detector's input with the gateway's scaler and the detector gets
    // those pixels as they are (boxes mapped back to the source); full: the detector resizes full frames.
    const frames = o.decode === 'gateway' ? readVideoFrames(source, { fps: o.fps, detectorInput: detector.manifest.input }) : readVideoFrames(source, { fps: o.fps });
    return await recordDetections(frames, detector, videoFrameOf);
  } finally {
    await detector.close();
  }
}

async function loadRecording(file: string): Promise<DetectionRecording> {
  try {
    return await readDetectionRecording(file);
  } catch (err) {
    if (err instanceof RecordingError) throw new CliError(err.message);
    throw err;
  }
}

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;
const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(1)} %`);
const signedPct = (v: number | null): string => (v === null ? 'n/a' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} %`);
const cell = (c: Compared, digits = 0): string => `${c.measured.toFixed(digits)} / ${c.truth.toFixed(digits)} (${signedPct(c.relativeError)})`;

function formatCounts(counts: CountComparison): string[] {
  const lines = counts.lines.map((l) => `    line ${l.name}: in ${cell(l.in)}, out ${cell(l.out)}`);
  const zones = counts.zones.map((z) => `    zone ${z.name}: visits ${cell(z.visits)}, dwell s ${cell(z.dwellS, 1)}`);
  return [
    ...lines,
    ...zones,
    `    → line error ${pct(counts.lineError)} (bias ${signedPct(counts.lineBias)}), dwell error ${pct(counts.dwellError)} (bias ${signedPct(counts.dwellBias)}), visit error ${pct(counts.visitError)} (bias ${signedPct(counts.visitBias)})`,
  ];
}

export function formatReport(reports: SegmentReport[]): string[] {
  const rows: string[] = [];
  for (const r of reports) {
    const t = r.tracking;
    rows.push(`${r.name} (video frames ${r.from}–${r.to}, ${r.frames} frames)`);
    rows.push(`  detector AP50 ${r.detection.ap.toFixed(3)} (P ${r.detection.precision.toFixed(2)} / R ${r.detection.recall.toFixed(2)} at score 0.5)`);
    rows.push(`  tracking MOTA ${t.mota.toFixed(3)}, IDF1 ${t.idf1.toFixed(3)}, ID switches ${t.idSwitches}, fragmentations ${t.fragmentations}, FP ${t.falsePositives}, FN ${t.misses}, ${r.trackingMsPerFrame.toFixed(3)} ms/frame`);
    rows.push('  scene (measured / truth):');
    rows.push(...formatCounts(r.counts));
    if (r.randomCounts) {
      const c = r.randomCounts;
      rows.push(`  random scene: ${c.lines.length} lines, ${c.zones.length} zones → line error ${pct(c.lineError)} (bias ${signedPct(c.lineBias)}), dwell error ${pct(c.dwellError)} (bias ${signedPct(c.dwellBias)}), visit error ${pct(c.visitError)} (bias ${signedPct(c.visitBias)})`);
    }
  }
  return rows;
}

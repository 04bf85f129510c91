/**
 * `storepulse analyze --source FILE|URL --scene SCENE`: people counting, zone visits and a heatmap
 * over a video, offline. With --json the last stdout line is the summary; with --out DIR it also
 * writes events.jsonl, tracks.txt (MOT) and heatmap.png / heatmap.json (no camera pixels).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AnalyticsEvent } from '../vision/analytics/trackPoint.js';
import { PersonDetector } from '../vision/detector/personDetector.js';
import { formatMotLine } from '../vision/eval/motFormat.js';
import { analyzeFrames } from '../vision/pipeline/offlineAnalysis.js';
import { loadScene, SceneError } from '../vision/scene.js';
import { ByteTracker } from '../vision/tracking/byteTracker.js';
import { readVideoFrames } from '../vision/videoFrames.js';
import { ANALYZE, DEMO } from './commandSpecs.js';
import { CliError, parsePositiveInt } from './errors.js';
import { parseCommandArgs, usageLine, type ParsedArgs } from './options.js';

export const ANALYZE_USAGE = usageLine(ANALYZE);

export async function analyzeCommand(argv: string[], out: (line: string) => void): Promise<void> {
  await analyze(parseCommandArgs(ANALYZE, argv), ANALYZE_USAGE, out);
}

/** `storepulse demo`: analyze with the sample footage and its scene as defaults. */
export async function demoCommand(argv: string[], out: (line: string) => void): Promise<void> {
  await analyze(parseCommandArgs(DEMO, argv), usageLine(DEMO), out);
}

async function analyze({ values, positionals }: ParsedArgs<typeof ANALYZE>, usage: string, out: (line: string) => void): Promise<void> {
  if (positionals.length > 0 || !values.source || !values.scene) throw new CliError(usage, 2);
  const source = values.source;
  if (!/^[a-z]+:\/\//i.test(source) && !existsSync(source)) throw new CliError(`no such file: ${source}`);
  let scene;
  try {
    scene = await loadScene(values.scene);
  } catch (err) {
    if (err instanceof SceneError) throw new CliError(`invalid scene ${values.scene}:\n  ${err.problems.join('\n  ')}`);
    throw err;
  }
  const fps = parsePositiveInt('fps', values.fps);
  const maxFrames = parsePositiveInt('max-frames', values['max-frames']);
  const tracker = new ByteTracker();
  // The tracker's second stage lives on low-score detections (half-hidden people): the detector
  // must report them instead of cutting at its own display threshold.
  const detector = await PersonDetector.create({
    model: values.model,
    threads: parsePositiveInt('threads', values.threads),
    scoreThreshold: tracker.options.lowScore,
  });

  const events: AnalyticsEvent[] = [];
  const motLines: string[] = [];
  let result;
  try {
    // Full-size decode, resized for the model by sharp (lanczos3). Decoding at the detector's input
    // as the gateway does (readVideoFrames' detectorInput) is cheaper, but on vtest.avi its pixels
    // (ffmpeg area or lanczos) cost counting accuracy with the tracker as tuned (docs/benchmarks.md).
    result = await analyzeFrames(readVideoFrames(source, { fps, maxFrames }), scene, detector, tracker, {
      onEvent: (e) => {
        events.push(e);
        if (!values.json) out(describeEvent(e));
      },
      onTracks: values.out
        ? (frame, tracks) => {
            for (const t of tracks) motLines.push(formatMotLine(frame.index + 1, t.id, t.box.x1, t.box.y1, t.box.x2 - t.box.x1, t.box.y2 - t.box.y1, t.box.score));
          }
        : undefined,
    });
  } finally {
    await detector.close();
  }

  if (values.out) {
    await mkdir(values.out, { recursive: true });
    await writeFile(path.join(values.out, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : ''));
    await writeFile(path.join(values.out, 'tracks.txt'), motLines.join('\n') + (motLines.length ? '\n' : ''));
    await writeFile(path.join(values.out, 'heatmap.png'), await result.analytics.heatmap.toPng(result.frameWidth, result.frameHeight));
    await writeFile(path.join(values.out, 'heatmap.json'), JSON.stringify(result.analytics.heatmap.toGrid()));
  }
  const summary = {
    frames: result.frames,
    duration_s: Math.round(result.durationS * 1000) / 1000,
    fps: Math.round(result.fps * 100) / 100,
    ...result.summary,
  };
  out(values.json ? JSON.stringify(summary) : `summary: ${JSON.stringify(summary, null, 2)}`);
}

function describeEvent(e: AnalyticsEvent): string {
  const t = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
  if (e.type === 'line_crossing') return `${t(e.timestampMs)} line ${e.line}: ${e.direction}`;
  return `${t(e.exitMs)} zone ${e.zone}: visit ${t(e.enterMs)}–${t(e.exitMs)} (${(e.dwellMs / 1000).toFixed(1)} s${e.counted ? '' : ', below min dwell'})`;
}

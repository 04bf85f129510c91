/**
 * Decoded RGB frames from a video file or stream, via an ffmpeg child process. Frames stay in
 * memory: nothing is written to disk. Timestamps come from the stream's presentation times
 * (ffmpeg's showinfo filter), so variable frame rates and dropped frames keep real timing.
 */
import { spawn } from 'node:child_process';
import type { RgbFrame } from './detection.js';
import type { ModelManifest } from './detector/modelManifest.js';
import type { ScaledFrame } from './detector/sourceScale.js';
import { scaleFilter, type FfmpegScaler } from './sources/ffmpegArgs.js';
import { RawFrameAssembler } from './sources/rawFrameAssembler.js';

export interface VideoInfo {
  width: number;
  height: number;
  /** Average frame rate reported by the container (0 when unknown, e.g. some live streams). */
  fps: number;
  durationS: number | undefined;
}

export class VideoError extends Error {}

function runCapture(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => reject(new VideoError(`cannot run ${cmd}: ${err.message} (is ffmpeg installed?)`)));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const lastLine = (text: string): string => text.trim().split('\n').filter(Boolean).pop() ?? 'no output';

function parseRate(rate: string | undefined): number {
  const [num, den] = (rate ?? '0/1').split('/').map(Number);
  return den ? (num ?? 0) / den : 0;
}

export async function probeVideo(source: string): Promise<VideoInfo> {
  const { code, stdout, stderr } = await runCapture('ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,avg_frame_rate,r_frame_rate:format=duration',
    '-of', 'json', source,
  ]);
  if (code !== 0) throw new VideoError(`cannot open video ${source}: ${lastLine(stderr)}`);
  const parsed = JSON.parse(stdout) as {
    streams?: { width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string }[];
    format?: { duration?: string };
  };
  const stream = parsed.streams?.[0];
  if (!stream?.width || !stream.height) throw new VideoError(`${source} has no video stream`);
  const fps = parseRate(stream.avg_frame_rate) || parseRate(stream.r_frame_rate);
  const duration = Number(parsed.format?.duration);
  return { width: stream.width, height: stream.height, fps, durationS: Number.isFinite(duration) ? duration : undefined };
}

export interface ReadVideoOptions {
  /** Resample to this rate (ffmpeg fps filter); default: every frame. */
  fps?: number;
  /** Scale to this width (height keeps the aspect ratio, rounded to even). */
  width?: number;
  /**
   * Decode at the size the gateway decodes for this detector input (the input itself for a stretch
   * model, its width with the aspect ratio kept for a letterbox one), with the gateway's scaler.
   * Frames then carry their source's size (ScaledFrame), so the detector reports boxes in source
   * pixels. Overrides `width`.
   */
  detectorInput?: Pick<ModelManifest['input'], 'width' | 'height' | 'resize'>;
  /** swscale algorithm for `detectorInput` (default area, the gateway's). */
  scaler?: FfmpegScaler;
  maxFrames?: number;
  signal?: AbortSignal;
}

/** Yields frames in order; throws VideoError if ffmpeg fails before the stream ends. */
export async function* readVideoFrames(source: string, options: ReadVideoOptions = {}): AsyncGenerator<RgbFrame> {
  const info = await probeVideo(source);
  const keepAspect = (w: number): number => 2 * Math.round((info.height * w) / info.width / 2);
  const input = options.detectorInput;
  const width = input?.width ?? options.width ?? info.width;
  const height = input ? (input.resize === 'stretch' ? input.height : keepAspect(input.width)) : options.width ? keepAspect(options.width) : info.height;
  // Already at the detector's size: nothing to scale, and no source size to map boxes back to.
  const scaled = input !== undefined && (width !== info.width || height !== info.height);
  const filters = [
    ...(options.fps ? [`fps=${options.fps}`] : []),
    ...(input ? (scaled ? [scaleFilter(width, height, options.scaler)] : []) : options.width ? [`scale=${width}:${height}`] : []),
    'showinfo',
  ];
  const sourceSize = { width: info.width, height: info.height };
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'info', '-i', source, '-an', '-vf', filters.join(','),
    ...(options.maxFrames ? ['-frames:v', String(options.maxFrames)] : []),
    '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const frameBytes = width * height * 3;
  const ptsQueue: number[] = [];
  const errorLines: string[] = [];
  let stderrRest = '';
  child.stderr.on('data', (d: Buffer) => {
    const lines = (stderrRest + d.toString()).split('\n');
    stderrRest = lines.pop() ?? '';
    for (const line of lines) {
      const m = /pts_time:\s*(-?[\d.]+)/.exec(line);
      if (m && line.includes('showinfo')) ptsQueue.push(Number(m[1]) * 1000);
      else if (line.trim() && !line.includes('showinfo')) errorLines.push(line.trim());
      if (errorLines.length > 20) errorLines.shift();
    }
  });
  const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const onAbort = (): void => void child.kill('SIGTERM');
  options.signal?.addEventListener('abort', onAbort);

  const assembler = new RawFrameAssembler(frameBytes);
  let index = 0;
  let lastPts = -Infinity;
  const frameInterval = 1000 / (options.fps || info.fps || 10);
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      for (const frame of assembler.push(chunk)) {
        // stderr (timestamps) and stdout (pixels) are separate pipes: give the log a moment to catch up.
        for (let wait = 0; ptsQueue.length === 0 && wait < 20; wait++) await new Promise((r) => setTimeout(r, 2));
        const pts = ptsQueue.shift();
        const timestampMs = pts ?? lastPts + frameInterval;
        lastPts = timestampMs;
        const decoded: RgbFrame = { index, width, height, data: frame, timestampMs };
        if (scaled) {
          const withSource: ScaledFrame = { ...decoded, source: sourceSize };
          yield withSource;
        } else {
          yield decoded;
        }
        index += 1;
      }
    }
    const code = await exit;
    if (code !== 0 && !options.signal?.aborted && !(options.maxFrames && index >= options.maxFrames)) {
      throw new VideoError(`ffmpeg failed on ${source}: ${errorLines.slice(-1)[0] ?? `exit code ${code}`}`);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null) child.kill('SIGTERM');
  }
}

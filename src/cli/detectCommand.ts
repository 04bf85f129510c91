/** `storepulse detect <image|video>`: person boxes per frame, as JSON lines or a readable summary. */
import { existsSync } from 'node:fs';
import { writeAnnotatedFrame } from '../vision/annotate.js';
import type { Detection, RgbFrame } from '../vision/detection.js';
import { PersonDetector } from '../vision/detector/personDetector.js';
import { isImagePath, loadImageFrame } from '../vision/imageFrames.js';
import { readVideoFrames } from '../vision/videoFrames.js';
import { DETECT } from './commandSpecs.js';
import { CliError, parseFraction, parsePositiveInt } from './errors.js';
import { parseCommandArgs, usageLine } from './options.js';

export const DETECT_USAGE = usageLine(DETECT);

const round = (v: number): number => Math.round(v * 10) / 10;

export async function detectCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandArgs(DETECT, argv);
  const input = positionals[0];
  if (!input || positionals.length > 1) throw new CliError(DETECT_USAGE, 2);
  const isUrl = /^[a-z]+:\/\//i.test(input);
  if (!isUrl && !existsSync(input)) throw new CliError(`no such file: ${input}`);
  const maxFrames = parsePositiveInt('max-frames', values['max-frames']);
  const detector = await PersonDetector.create({
    model: values.model,
    threads: parsePositiveInt('threads', values.threads),
    scoreThreshold: parseFraction('score', values.score),
  });
  const frames: AsyncIterable<RgbFrame> = !isUrl && isImagePath(input) ? single(await loadImageFrame(input)) : readVideoFrames(input, { maxFrames });

  let last: { frame: RgbFrame; detections: Detection[] } | undefined;
  let count = 0;
  let people = 0;
  const started = performance.now();
  try {
    for await (const frame of frames) {
      const { detections, timings } = await detector.detectTimed(frame);
      count += 1;
      people += detections.length;
      last = { frame, detections };
      if (values.json) {
        out(JSON.stringify({ frame: frame.index, detections: detections.map((d) => ({ x1: round(d.x1), y1: round(d.y1), x2: round(d.x2), y2: round(d.y2), score: Math.round(d.score * 1000) / 1000 })) }));
      } else {
        const ms = timings.preprocessMs + timings.inferenceMs + timings.decodeMs;
        out(`frame ${frame.index} (${(frame.timestampMs / 1000).toFixed(2)} s): ${detections.length} ${detections.length === 1 ? 'person' : 'people'}, ${ms.toFixed(1)} ms`);
      }
    }
  } finally {
    await detector.close();
  }
  if (count === 0) throw new CliError(`no frames decoded from ${input}`);
  if (values.annotate && last) await writeAnnotatedFrame(last.frame, last.detections, values.annotate);
  if (!values.json) {
    const elapsed = (performance.now() - started) / 1000;
    out(`${count} frame(s), ${people} detections, model ${detector.manifest.name}, ${(count / elapsed).toFixed(1)} frames/s`);
    if (values.annotate) out(`annotated frame ${last?.frame.index} written to ${values.annotate}`);
  }
}

async function* single(frame: RgbFrame): AsyncGenerator<RgbFrame> {
  yield frame;
}

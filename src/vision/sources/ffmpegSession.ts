/**
 * One ffmpeg child decoding a camera into raw RGB frames on its stdout. Frames stay in memory.
 * The frame size comes from ffmpeg's own output description, so no separate probe (and no second
 * RTSP connection) is needed.
 */
import { spawn } from 'node:child_process';
import { parseOutputSize, redactUrl } from './ffmpegArgs.js';
import { RawFrameAssembler } from './rawFrameAssembler.js';
import type { PixelFrame, SessionEnd, SourceSession } from './supervisedSource.js';

const KILL_GRACE_MS = 2000;

export function ffmpegSession(args: string[], emit: (frame: PixelFrame) => void, ffmpegPath = 'ffmpeg'): SourceSession {
  const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let size: { width: number; height: number } | undefined;
  let assembler: RawFrameAssembler | undefined;
  const early: Buffer[] = [];
  const problems: string[] = [];
  let stderrRest = '';

  const feed = (chunk: Uint8Array): void => {
    if (!assembler || !size) return;
    for (const data of assembler.push(chunk)) emit({ width: size.width, height: size.height, data });
  };

  child.stderr.on('data', (d: Buffer) => {
    const lines = (stderrRest + d.toString()).split('\n');
    stderrRest = lines.pop() ?? '';
    for (const line of lines) {
      if (!size) {
        const parsed = parseOutputSize(line);
        if (parsed) {
          size = parsed;
          assembler = new RawFrameAssembler(parsed.width * parsed.height * 3);
          for (const chunk of early.splice(0)) feed(chunk);
        }
      }
      if (/^\[(warning|error|fatal|panic)\]/.test(line)) {
        problems.push(redactUrl(line.replace(/^\[\w+\]\s*/, '').trim()));
        if (problems.length > 10) problems.shift();
      }
    }
  });
  // stdout and stderr are separate pipes: pixels may arrive before the line that gives their size.
  child.stdout.on('data', (chunk: Buffer) => (assembler ? feed(chunk) : early.push(chunk)));

  let killTimer: NodeJS.Timeout | undefined;
  const finished = new Promise<SessionEnd>((resolve) => {
    child.on('error', (err) => resolve({ kind: 'failed', error: `cannot run ffmpeg: ${err.message}` }));
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      if (code === 0) resolve({ kind: 'ended' });
      else resolve({ kind: 'failed', error: problems.at(-1) ?? (signal ? `ffmpeg killed by ${signal}` : `ffmpeg exited with code ${code}`) });
    });
  });
  return {
    finished,
    close: () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    },
  };
}

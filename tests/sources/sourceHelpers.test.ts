import { describe, expect, it } from 'vitest';
import { RateMeter } from '../../src/gateway/rateMeter.js';
import { backoffDelayMs } from '../../src/common/backoff.js';
import { ffmpegArgs, ffmpegInputArgs, parseOutputSize, redactUrl } from '../../src/vision/sources/ffmpegArgs.js';
import { RawFrameAssembler } from '../../src/vision/sources/rawFrameAssembler.js';
import { decodeSize } from '../../src/vision/sources/cameraSource.js';

describe('ffmpeg command lines', () => {
  it.each([
    [{ kind: 'rtsp', url: 'rtsp://cam/s', transport: 'udp' } as const, ['-rtsp_transport', 'udp', '-timeout', '5000000', '-i', 'rtsp://cam/s']],
    [{ kind: 'mjpeg', url: 'http://cam/video.mjpg' } as const, ['-f', 'mpjpeg', '-use_wallclock_as_timestamps', '1', '-i', 'http://cam/video.mjpg']],
    [{ kind: 'v4l2', device: '/dev/video0' } as const, ['-f', 'v4l2', '-i', '/dev/video0']],
    [{ kind: 'file', path: 'a.mp4', loop: true, realtime: true } as const, ['-re', '-stream_loop', '-1', '-i', 'a.mp4']],
    [{ kind: 'file', path: 'a.mp4', loop: false, realtime: false } as const, ['-i', 'a.mp4']],
  ])('%j', (source, expected) => {
    expect(ffmpegInputArgs(source)).toEqual(expected);
  });

  it('resamples, scales and writes raw RGB to stdout', () => {
    const args = ffmpegArgs({ kind: 'v4l2', device: '/dev/video0' }, 5, 640);
    expect(args.slice(args.indexOf('-vf'), args.indexOf('-vf') + 2)).toEqual(['-vf', 'fps=5,scale=640:-2:flags=area']);
    expect(args.slice(-5)).toEqual(['-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1']);
  });

  it('reads the output size from ffmpeg log lines, ignoring the input and mapping lines', () => {
    expect(parseOutputSize('[info]   Stream #0:0: Video: msmpeg4v3 (div3 / 0x33766964), yuv420p, 768x576, 816 kb/s')).toBeUndefined();
    expect(parseOutputSize('[info]   Stream #0:0 -> #0:0 (msmpeg4v3 (msmpeg4) -> rawvideo (native))')).toBeUndefined();
    expect(parseOutputSize('[info]   Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, gbr/unknown/unknown, progressive), 640x480, q=2-31, 36864 kb/s, 5 fps')).toEqual({ width: 640, height: 480 });
  });

  it('never lets camera credentials reach a log line', () => {
    expect(redactUrl('rtsp://admin:s3cret@10.0.0.5/s1: Connection refused')).toBe('rtsp://***@10.0.0.5/s1: Connection refused');
    expect(redactUrl('http://10.0.0.5/snap.jpg')).toBe('http://10.0.0.5/snap.jpg');
  });
});

describe('RawFrameAssembler', () => {
  it('cuts frames across arbitrary chunk boundaries without mixing them', () => {
    const assembler = new RawFrameAssembler(6);
    const stream = Uint8Array.from({ length: 20 }, (_, i) => i);
    const frames = [stream.subarray(0, 4), stream.subarray(4, 5), stream.subarray(5, 17), stream.subarray(17)].flatMap((c) => assembler.push(c));
    expect(frames.map((f) => [...f])).toEqual([[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11], [12, 13, 14, 15, 16, 17]]);
    expect(assembler.pendingBytes).toBe(2);
    expect(frames[0]?.buffer).not.toBe(frames[1]?.buffer);
  });
});

describe('backoff', () => {
  it('doubles up to the cap, with jitter between half and all of it', () => {
    const options = { initialMs: 500, maxMs: 5000 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelayMs(a, options, () => 1))).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect(backoffDelayMs(3, options, () => 0)).toBe(2000);
  });
});

describe('RateMeter', () => {
  it('reports events per second over the window, excluding the second in progress', () => {
    const meter = new RateMeter(5);
    for (let t = 0; t < 10_000; t += 200) meter.mark(t); // 5 per second for 10 s
    expect(meter.rate(10_000)).toBeCloseTo(5);
    expect(meter.rate(30_000)).toBe(0); // silence empties the window
  });
});

describe('decodeSize', () => {
  const stretch = { width: 416, height: 416, resize: 'stretch' as const };
  const letterbox = { width: 416, height: 416, resize: 'letterbox' as const };
  it('decodes at the detector input by default, keeping the aspect ratio for letterbox models', () => {
    expect(decodeSize({}, stretch)).toEqual({ width: 416, height: 416 });
    expect(decodeSize({}, letterbox)).toEqual({ width: 416, height: undefined });
  });
  it('lets the camera choose', () => {
    expect(decodeSize({ width: 640 }, stretch)).toEqual({ width: 640, height: undefined });
    expect(decodeSize({ width: 800, height: 600 }, letterbox)).toEqual({ width: 800, height: 600 });
  });
});

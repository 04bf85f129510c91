/** A real RTSP camera (tests/peers/rtspServer.py) re-streaming vtest.avi, for tests and benchmarks. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { VTEST_PATH } from './fixtures.js';

const SERVER_SCRIPT = path.join(PROJECT_ROOT, 'tests', 'peers', 'rtspServer.py');

/** GStreamer's RTSP server is installed (Debian python3-gi + gir1.2-gst-rtsp-server-1.0). */
export const hasRtspServer =
  existsSync('/usr/bin/python3') &&
  spawnSync('/usr/bin/python3', ['-c', "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"]).status === 0;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** vtest.avi (MS-MPEG4) as H.264 MP4, which the RTSP server streams without re-encoding. */
export function makeH264Footage(dir: string): string {
  const out = path.join(dir, 'vtest-h264.mp4');
  const result = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', VTEST_PATH, '-an', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-pix_fmt', 'yuv420p', out]);
  if (result.status !== 0) throw new Error(`cannot transcode the footage: ${result.stderr.toString()}`);
  return out;
}

export class RtspCamera {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly file: string,
  ) {}

  get url(): string {
    return `rtsp://127.0.0.1:${this.port}/cam`;
  }

  async start(): Promise<void> {
    const child = spawn('/usr/bin/python3', [SERVER_SCRIPT, String(this.port), this.file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`RTSP server exited (${code}): ${stderr.trim()}`)));
    });
  }

  /** An outage: the server dies without closing anything cleanly. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * The gateway in-process with real parts: the shipped model in worker threads, ffmpeg decoding
 * real footage, an HTTP snapshot camera and an ffmpeg MJPEG server on 127.0.0.1, and the HTTP API
 * through fastify's inject().
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/gateway/gateway.js';
import { apiTokens } from '../../src/gateway/http/apiAuth.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import type { CameraSnapshot } from '../../src/gateway/cameraPipeline.js';
import { hasVtest, VTEST_PATH, vtestFrames } from '../helpers/fixtures.js';
import { tempDir, testContext, until, writeConfig } from '../helpers/gatewayHarness.js';

const LINES = [{ name: 'L_centre', points: [[0.52, 0.3], [0.52, 0.95]] }];
const fileCamera = (id: string, extra: Record<string, unknown> = {}) => ({ id, source: { kind: 'file', path: VTEST_PATH, loop: true }, lines: LINES, ...extra });

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startGateway(configPath: string) {
  const ctx = testContext();
  const gateway = await Gateway.start({ ctx, configPath, watchConfig: true });
  const app = buildServer(gateway, ctx);
  cleanups.push(() => gateway.stop());
  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${apiTokens(gateway.config)[0]!.token}` } });
    return { status: res.statusCode, body: String(res.headers['content-type'] ?? '').includes('json') ? res.json() : res.body };
  };
  const camera = async (id: string) => (await get(`/api/cameras/${id}`)).body as CameraSnapshot;
  return { gateway, get, camera };
}

describe.skipIf(!hasVtest)('gateway', () => {
  it('starts in safe mode on an invalid config, shows why, and recovers when the file is fixed', async () => {
    const dir = await tempDir('safe');
    const file = path.join(dir, 'gateway.yaml');
    await writeConfig(file, { data_dir: path.join(dir, 'data'), cameras: [{ id: 'door', source: { kind: 'rtsp', url: 'http://wrong' } }] });
    const { gateway, get, camera } = await startGateway(file);

    expect(gateway.mode).toBe('safe');
    expect((await get('/healthz')).status).toBe(200);
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.body)).toContain('cameras.0.source.url: must start with rtsp://');
    expect((await get('/api/status')).body).toMatchObject({ mode: 'safe', config: { errors: [expect.stringContaining('cameras.0.source.url')] }, cameras: [] });
    expect((await get('/metrics')).body).toMatch(/^storepulse_config_valid 0$/m);

    // The installer fixes the file: the watcher applies it without a restart.
    await writeConfig(file, { data_dir: path.join(dir, 'data'), cameras: [fileCamera('door')] });
    await until(() => get('/readyz'), (r) => r.status === 200, 30_000, 'readiness after the fix');
    const live = await until(() => camera('door'), (c) => c.frames?.processed > 5, 30_000, 'frames processed');
    expect(live.source.state).toBe('live');
    expect(live.frame).toEqual({ width: 416, height: 416 }); // decoded at the detector's input
    expect((await get('/metrics')).body).toMatch(/^storepulse_config_valid 1$/m);

    // Lines change: applied live, the camera is not restarted and its frame count carries on.
    const before = await camera('door');
    await writeConfig(file, { data_dir: path.join(dir, 'data'), cameras: [fileCamera('door', { lines: [{ name: 'L_door', points: [[0.2, 0.3], [0.2, 0.95]] }] })] });
    const reloaded = await until(() => camera('door'), (c) => 'L_door' in c.lines, 30_000, 'new line');
    expect(Object.keys(reloaded.lines)).toEqual(['L_door']);
    expect(reloaded.source.restarts).toBe(0);
    expect(reloaded.frames.input).toBeGreaterThan(before.frames.input);

    // A broken edit is refused: the running config stays, the error is visible.
    await writeConfig(file, 'cameras: [{ id: door, fps: -3 }]');
    const status = await until(() => get('/api/status'), (r) => r.body.config.last_reload?.ok === false, 30_000, 'rejected reload');
    expect(status.body.mode).toBe('running');
    expect(status.body.config.last_reload.errors.join(' ')).toMatch(/cameras\.0\.(source|fps)/);
    expect((await camera('door')).source.state).toBe('live');
    expect((await get('/metrics')).body).toMatch(/storepulse_config_reloads_total\{result="invalid"\} 1/);
  }, 240_000); // room for each wait's own deadline, which are never reached on a working gateway

  it('keeps counting on a live camera while another one is dead', async () => {
    const dir = await tempDir('dead');
    const file = path.join(dir, 'gateway.yaml');
    await writeConfig(file, {
      data_dir: path.join(dir, 'data'),
      cameras: [
        { id: 'dead', source: { kind: 'rtsp', url: 'rtsp://user:pw@127.0.0.1:9/none' }, reconnect: { initial_s: 0.2, max_s: 1 } },
        fileCamera('alive'),
      ],
    });
    const { camera, get } = await startGateway(file);
    const dead = await until(() => camera('dead'), (c) => c.source.restarts >= 2, 30_000, 'reconnect attempts');
    expect(dead.source.state).toMatch(/error|connecting/);
    expect(dead.source.lastError).toMatch(/refused/i);
    expect(dead.source.lastError).not.toContain('pw'); // credentials never reach the API
    const alive = await until(() => camera('alive'), (c) => c.frames.processed >= 15, 30_000, 'frames on the live camera');
    // Behaviour, not throughput (a loaded machine drops frames by design): the live camera stays
    // up, is never restarted because of its dead neighbour, and keeps being processed while the
    // dead one goes on reconnecting.
    expect(alive.source).toMatchObject({ state: 'live', restarts: 0 });
    expect(alive.source.lastError).toBeUndefined();
    const both = async () => ({ alive: await camera('alive'), dead: await camera('dead') });
    const later = await until(both, (b) => b.alive.frames.processed > alive.frames.processed && b.dead.source.restarts > dead.source.restarts, 30_000, 'both cameras moving on');
    expect(later.alive.source).toMatchObject({ state: 'live', restarts: 0 });
    expect(later.alive.frames.processed + later.alive.frames.dropped).toBeLessThanOrEqual(later.alive.frames.input); // each frame counted once at most
    const metrics = (await get('/metrics')).body as string;
    expect(metrics).toMatch(/storepulse_camera_up\{camera="dead"\} 0/);
    expect(metrics).toMatch(/storepulse_camera_up\{camera="alive"\} 1/);
    expect(metrics).toMatch(/storepulse_camera_restarts_total\{camera="dead"\} [1-9]/);
  });

  it('reads HTTP snapshot and MJPEG cameras', async () => {
    const jpegs = await Promise.all((await vtestFrames([0, 5, 10, 15])).map((f) => sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } }).jpeg().toBuffer()));
    let served = 0;
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(jpegs[served++ % jpegs.length]);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const snapshotPort = (server.address() as AddressInfo).port;

    // ffmpeg as an MJPEG camera (it serves one client; enough for this test).
    const mjpegPort = snapshotPort + 1;
    const mjpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', VTEST_PATH, '-an', '-c:v', 'mjpeg', '-q:v', '5',
      '-f', 'mpjpeg', '-content_type', 'multipart/x-mixed-replace;boundary=ffmpeg', '-listen', '1', `http://127.0.0.1:${mjpegPort}/cam.mjpg`], { stdio: 'ignore' });
    cleanups.push(() => mjpeg.kill('SIGKILL'));

    const dir = await tempDir('http');
    const file = path.join(dir, 'gateway.yaml');
    await writeConfig(file, {
      data_dir: path.join(dir, 'data'),
      cameras: [
        { id: 'snap', fps: 2, source: { kind: 'snapshot', url: `http://127.0.0.1:${snapshotPort}/snapshot.jpg` } },
        { id: 'mjpeg', source: { kind: 'mjpeg', url: `http://127.0.0.1:${mjpegPort}/cam.mjpg` }, reconnect: { initial_s: 0.3, max_s: 1 } },
      ],
    });
    const { camera } = await startGateway(file);
    const snap = await until(() => camera('snap'), (c) => c.frames.processed >= 4, 30_000, 'snapshot frames');
    expect(snap.frame).toEqual({ width: 416, height: 416 });
    expect(served).toBeGreaterThanOrEqual(4);
    const mj = await until(() => camera('mjpeg'), (c) => c.frames.processed >= 5, 30_000, 'MJPEG frames');
    expect(mj.source.state).toBe('live');
  });
});

/**
 * End to end: `storepulse run` as its own process reads a real RTSP camera (gst-rtsp-server
 * re-streaming real footage), counts people crossing lines, and shows the counts through the API
 * and /metrics. The RTSP server is then killed and restarted: the daemon resumes by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/projectPaths.js';
import { hasVtest } from '../helpers/fixtures.js';
import { tempDir, until, writeConfig } from '../helpers/gatewayHarness.js';
import { freePort, hasRtspServer, makeH264Footage, RtspCamera } from '../helpers/rtspCamera.js';

describe.skipIf(!hasVtest || !hasRtspServer)('storepulse run with an RTSP camera', () => {
  let camera: RtspCamera;
  let daemon: ChildProcess;
  let api: string;
  let logs = '';

  const TOKEN = 'e2e-token-0123456789abcdef';
  const getJson = async (url: string) => (await fetch(`${api}${url}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
  const cameraStatus = async () => (await getJson('/api/cameras/door')) as { source: { state: string; framesReceived: number; restarts: number; lastError?: string }; frames: { processed: number } };

  beforeAll(async () => {
    const dir = await tempDir('rtsp');
    camera = new RtspCamera(await freePort(), makeH264Footage(dir));
    await camera.start();
    const config = path.join(dir, 'gateway.yaml');
    await writeConfig(config, {
      store_id: 'test-store',
      data_dir: path.join(dir, 'data'),
      tls: { mode: 'off' }, // plain HTTP here; HTTPS is tests/tls
      api: { tokens: [{ name: 'e2e', token: '${E2E_TOKEN}' }] },
      cameras: [{
        id: 'door',
        source: { kind: 'rtsp', url: camera.url, transport: 'tcp' },
        fps: 5,
        stall_timeout_s: 15, // longer than a loaded machine takes to (re)connect and decode a first frame
        reconnect: { initial_s: 0.5, max_s: 2 },
        lines: [{ name: 'L_centre', points: [[0.52, 0.3], [0.52, 0.95]] }, { name: 'L_path', points: [[0.25, 0.75], [0.25, 0.3]] }],
        zones: [{ name: 'road', polygon: [[0.0, 0.42], [0.55, 0.45], [0.98, 0.35], [0.98, 0.85], [0.75, 0.95], [0.0, 0.7]] }],
      }],
    });
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    daemon = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/cli/main.ts'), 'run', '--config', config, '--port', String(port)], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, E2E_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon.stdout?.on('data', (d: Buffer) => (logs += d.toString()));
    daemon.stderr?.on('data', (d: Buffer) => (logs += d.toString()));
    try {
      await until(() => fetch(`${api}/readyz`).then((r) => r.status, () => 0), (s) => s === 200, 60_000, 'the daemon to be ready');
    } catch (err) {
      throw new Error(`${(err as Error).message}\ndaemon output:\n${logs.slice(-3000)}`);
    }
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
    await camera?.kill();
  });

  it('counts people from the stream and shows them in the API and /metrics', async () => {
    const counts = await until(
      () => getJson('/api/counts') as Promise<{ cameras: Record<string, { lines: Record<string, { in: number; out: number }> }> }>,
      (c) => Object.values(c.cameras.door?.lines ?? {}).reduce((s, l) => s + l.in + l.out, 0) >= 2,
      90_000,
      'line crossings',
    );
    expect(counts).toMatchObject({ store_id: 'test-store', cameras: { door: { state: 'live' } } });
    const metrics = await (await fetch(`${api}/metrics`)).text();
    expect(metrics).toMatch(/storepulse_line_crossings_total\{camera="door",line="L_(centre|path)",direction="(in|out)"\} [1-9]/);
    // Frames are being processed (a rate above zero), not a throughput figure that load would lower.
    expect(Number(/storepulse_camera_processed_fps\{camera="door"\} (\S+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/storepulse_detector_latency_seconds_count\{camera="door"\} [1-9]/);
    expect(metrics).toMatch(/storepulse_zone_occupancy\{camera="door",zone="road"\} \d/);
    expect(logs).toContain('"camera":"door"'); // structured logs with a per-camera child logger

    // The crossings are stored (SQLite) and readable through the token-protected analytics API.
    expect((await fetch(`${api}/api/v1/events`)).status).toBe(401);
    expect((await fetch(`${api}/api/counts`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const stored = (await getJson('/api/v1/events?type=line_crossing&camera=door')) as { events: { type: string; camera: string; line: string; direction: string; trackId?: number }[] };
    expect(stored.events.length).toBeGreaterThanOrEqual(2);
    expect(stored.events[0]).toMatchObject({ type: 'line_crossing', camera: 'door' });
    expect(stored.events[0]!.trackId).toBeUndefined(); // nothing that follows a person is stored
    const csv = await (await fetch(`${api}/api/v1/kpis?bin=1h&format=csv`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(csv.split('\r\n')[0]).toBe('bin_start,bin_end,metric,subject,value');
    expect(csv).toMatch(/,line_(in|out),door\/L_(centre|path),[1-9]/);
  });

  it('survives the camera server dying and resumes by itself when it is back', async () => {
    const before = await cameraStatus();
    expect(before.source.state).toBe('live');
    await camera.kill();
    const down = await until(cameraStatus, (c) => c.source.state !== 'live', 30_000, 'the outage to be noticed');
    expect(['stalled', 'error', 'connecting']).toContain(down.source.state);

    await new Promise((r) => setTimeout(r, 3000)); // a few seconds of outage: failed reconnects
    await camera.start();
    const serverBackAt = Date.now();
    const after = await until(cameraStatus, (c) => c.source.state === 'live' && c.source.framesReceived > before.source.framesReceived + 5, 30_000, 'the camera to be live again');
    const recoveryS = (Date.now() - serverBackAt) / 1000;
    expect(after.source.restarts).toBeGreaterThan(before.source.restarts);
    expect(after.frames.processed).toBeGreaterThan(before.frames.processed);
    // The target (live within 10 s) is measured by `npm run bench:gateway -- --outage`; this only shows it resumes.
    console.log(`camera live again ${recoveryS.toFixed(1)} s after the RTSP server came back`);
  });
});

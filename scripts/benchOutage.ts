/**
 * npm run bench:outage [-- --outages N] [--down S] [--json]
 *
 * How fast a camera is live again after an outage: one gateway camera reads a real RTSP server
 * (gst-rtsp-server re-streaming vtest.avi); the server is killed, kept down for S seconds, and
 * restarted, N times. Reports the time from the server being back to the camera delivering frames
 * again (p50 and max), with the default reconnect settings (backoff 0.5 s doubling to 5 s).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Gateway } from '../src/gateway/gateway.js';
import { createMetrics } from '../src/gateway/metrics.js';
import { tempDir, until } from '../tests/helpers/gatewayHarness.js';
import { freePort, hasRtspServer, makeH264Footage, RtspCamera } from '../tests/helpers/rtspCamera.js';

const { values } = parseArgs({ options: { outages: { type: 'string', default: '5' }, down: { type: 'string', default: '8' }, json: { type: 'boolean', default: false } } });
if (!hasRtspServer) throw new Error('needs the GStreamer RTSP server: deploy/setup.sh --test');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const dir = await tempDir('outage');
const camera = new RtspCamera(await freePort(), makeH264Footage(dir));
await camera.start();
const gateway = await Gateway.start({
  ctx: { log: pino({ level: 'warn' }), metrics: createMetrics(), now: Date.now },
  rawConfig: { data_dir: dir, cameras: [{ id: 'door', source: { kind: 'rtsp', url: camera.url } }] },
});
const status = () => gateway.camera('door')?.source;
await until(status, (s) => s?.state === 'live', 30_000, 'first frames');

const recoveries: number[] = [];
for (let i = 0; i < Number(values.outages); i++) {
  await sleep(2000);
  await camera.kill();
  await until(status, (s) => s?.state !== 'live', 30_000, 'the outage to be noticed');
  await sleep(Number(values.down) * 1000);
  const framesBefore = status()?.framesReceived ?? 0;
  await camera.start();
  const back = Date.now();
  await until(status, (s) => s?.state === 'live' && s.framesReceived > framesBefore, 60_000, 'the camera to be live again');
  recoveries.push((Date.now() - back) / 1000);
}
await gateway.stop();
await camera.kill();

const sorted = [...recoveries].sort((a, b) => a - b);
const report = {
  outages: recoveries.length,
  down_s: Number(values.down),
  recovery_s_p50: +(sorted[Math.floor(sorted.length / 2)] ?? NaN).toFixed(1),
  recovery_s_max: +(sorted.at(-1) ?? NaN).toFixed(1),
  recoveries_s: recoveries.map((r) => +r.toFixed(1)),
};
console.log(values.json ? JSON.stringify(report) : report);
process.exit(0);

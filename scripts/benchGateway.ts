/**
 * npm run bench:gateway -- --cameras N [--seconds S] [--warmup S] [--fps F] [--width W] [--height H] [--workers N] [--json]
 *
 * N cameras stream real footage (vtest.avi: pedestrians moving all the time) into one in-process
 * gateway, each through its own ffmpeg child decoding at the file's real pace, looping; the
 * gateway runs exactly as `storepulse run` does (motion gate, detector worker pool, tracker,
 * lines and zones of config/demo.yaml). After a warm-up, it reports per camera the processed
 * fps and the dropped-frame ratio, plus CPU % of the machine (gateway process + its ffmpeg
 * children), peak RSS and the capture→analytics latency p50/p95.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { DEMO_CONFIG } from '../src/cli/runCommand.js';
import { Gateway } from '../src/gateway/gateway.js';
import { createMetrics } from '../src/gateway/metrics.js';

const { values } = parseArgs({
  options: {
    cameras: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
    fps: { type: 'string', default: '5' },
    width: { type: 'string' },
    height: { type: 'string' },
    workers: { type: 'string', default: String(Math.max(1, os.availableParallelism())) },
    json: { type: 'boolean', default: false },
  },
});
const cameras = Number(values.cameras);
const seconds = Number(values.seconds);
const warmupS = Number(values.warmup);
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const demo = parseYaml(readFileSync(DEMO_CONFIG, 'utf8')) as { cameras: Record<string, unknown>[] };
const template = demo.cameras[0] as Record<string, unknown>;
const rawConfig = {
  data_dir: os.tmpdir(),
  detector: { workers: Number(values.workers) },
  cameras: Array.from({ length: cameras }, (_, i) => ({ ...template, id: `cam${i + 1}`, name: undefined, fps: Number(values.fps), width: values.width ? Number(values.width) : undefined, height: values.height ? Number(values.height) : undefined })),
};

/** CPU ticks (user + system) of a process from /proc, and its RSS in bytes. */
const TICKS_PER_S = 100;
function procStat(pid: number): { cpuS: number; rss: number; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuS: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S, rss: Number(fields[21]) * 4096 };
  } catch {
    return undefined;
  }
}
/** Proportional set size: shared libraries counted once across the ffmpeg processes, not eight times. */
function pssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The gateway's ffmpeg children. */
function children(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => procStat(pid)?.ppid === process.pid);
}
function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string;
  const t = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (t[3] ?? 0) + (t[4] ?? 0);
  const total = t.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

const latencies: number[] = [];
let measuring = false;
const metrics = createMetrics();
const gateway = await Gateway.start({
  ctx: { log: pino({ level: 'warn' }), metrics, now: Date.now },
  rawConfig,
  onTracks: (_camera, frame) => {
    if (measuring) latencies.push(Date.now() - frame.timestampMs);
  },
});
if (gateway.mode !== 'running') throw new Error(`invalid bench config: ${gateway.status().config.errors.join('; ')}`);
await sleep(warmupS * 1000);

const before = gateway.status().cameras.map((c) => ({ ...c.frames }));
const cpu0 = process.cpuUsage();
const kids0 = new Map(children().map((pid) => [pid, procStat(pid)?.cpuS ?? 0]));
const machine0 = machineCpu();
let peakRss = 0;
let peakChildRss = 0;
let peakChildPss = 0;
let peakPss = 0;
measuring = true;
const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) {
  await sleep(1000);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const kids = children();
  peakChildRss = Math.max(peakChildRss, kids.reduce((sum, pid) => sum + (procStat(pid)?.rss ?? 0), 0));
  peakChildPss = Math.max(peakChildPss, kids.reduce((sum, pid) => sum + pssBytes(pid), 0));
  peakPss = Math.max(peakPss, pssBytes(process.pid));
}
measuring = false;
const wallS = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const kidsCpuS = children().reduce((sum, pid) => sum + (procStat(pid)?.cpuS ?? 0) - (kids0.get(pid) ?? 0), 0);
const machine1 = machineCpu();
const after = gateway.status().cameras;
await gateway.stop();

const perCamera = after.map((c, i) => {
  const b = before[i] as (typeof after)[number]['frames'];
  const input = c.frames.input - b.input;
  const processed = c.frames.processed - b.processed;
  const dropped = c.frames.dropped - b.dropped;
  return {
    camera: c.id,
    input_fps: +(input / wallS).toFixed(2),
    processed_fps: +(processed / wallS).toFixed(2),
    dropped_ratio: input ? +(dropped / input).toFixed(4) : 0,
    motion_skipped: c.frames.motionSkipped - b.motionSkipped,
    restarts: c.source.restarts,
  };
});
const totalInput = perCamera.reduce((s, c) => s + c.input_fps, 0);
const totalDropped = perCamera.reduce((s, c) => s + c.dropped_ratio * c.input_fps, 0);
const report = {
  machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}`,
  cameras,
  target_fps: Number(values.fps),
  decoded_size: values.width ? `${values.width}x${values.height ?? 'aspect'}` : 'detector input (default)',
  detector_workers: Number(values.workers),
  seconds: +wallS.toFixed(1),
  processed_fps_per_camera_min: Math.min(...perCamera.map((c) => c.processed_fps)),
  processed_fps_per_camera_mean: +(perCamera.reduce((s, c) => s + c.processed_fps, 0) / cameras).toFixed(2),
  dropped_ratio: totalInput ? +(totalDropped / totalInput).toFixed(4) : 0,
  cpu_percent_gateway: +((100 * (cpu.user + cpu.system)) / 1e6 / wallS).toFixed(1),
  cpu_percent_ffmpeg: +((100 * kidsCpuS) / wallS).toFixed(1),
  cpu_percent_machine: +((100 * os.availableParallelism() * (machine1.busy - machine0.busy)) / (machine1.total - machine0.total)).toFixed(1),
  rss_mb_gateway_peak: Math.round(peakRss / 2 ** 20),
  pss_mb_gateway_peak: Math.round(peakPss / 2 ** 20),
  rss_mb_ffmpeg_peak_total: Math.round(peakChildRss / 2 ** 20),
  pss_mb_ffmpeg_peak_total: Math.round(peakChildPss / 2 ** 20),
  latency_ms_p50: Math.round(percentile(latencies, 50)),
  latency_ms_p95: Math.round(percentile(latencies, 95)),
  per_camera: perCamera,
};
if (values.json) {
  console.log(JSON.stringify(report));
} else {
  const { per_camera: rows, ...summary } = report;
  for (const [k, v] of Object.entries(summary)) console.log(`${k.padEnd(32)} ${v}`);
  console.table(rows);
}
process.exit(0);

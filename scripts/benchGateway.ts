/**
 * npm run bench:gateway -- --cameras N [--seconds S] [--warmup S] [--fps F] [--min-fps F] [--fixed-fps]
 *                          [--model NAME|PATH] [--width W] [--height H] [--workers N] [--json]
 * npm run bench:gateway -- --curve 8,12,16,20 [--seconds S] …   (one child process per point, a table at the end)
 *
 * N cameras stream real footage (vtest.avi: pedestrians moving all the time) into one in-process
 * gateway, each through its own ffmpeg child decoding at the file's real pace, looping; the
 * gateway runs exactly as `storepulse run` does (motion gate, detector worker pool, tracker,
 * lines and zones of config/demo.yaml). After a warm-up, it reports per camera the processed
 * fps and the dropped-frame ratio, plus CPU % of the machine (gateway process + its ffmpeg
 * children), peak RSS and the capture→analytics latency p50/p95, and where a camera's CPU goes
 * (ffmpeg, the motion gate, the detector's preprocessing / inference / decoding, tracking,
 * analytics, and the rest of the gateway process: pipe reads, frame assembly, thread messages, GC).
 * The fair frame-rate control (detector.adaptive_fps) is on unless --fixed-fps: over capacity the
 * cameras are then held at an even lower fps ("throttled" frames) instead of dropping frames unevenly.
 * The machine's load average is printed with every figure: the 2 cores may be shared.
 */
import { spawnSync } from 'node:child_process';
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
    'min-fps': { type: 'string' },
    model: { type: 'string' },
    'fixed-fps': { type: 'boolean', default: false },
    curve: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
if (values.curve) {
  runCurve(values.curve);
  process.exit(0);
}

/**
 * Runs this script once per camera count, each in a process of its own (so one point's RSS and
 * worker threads do not carry over into the next), and prints the curve.
 */
function runCurve(spec: string): void {
  const counts = spec.split(',').map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--curve takes camera counts such as 8,12,16,20, got "${spec}"`);
  const passOn = process.argv.slice(2).filter((a, i, all) => a !== '--curve' && all[i - 1] !== '--curve' && !a.startsWith('--curve=') && a !== '--json' && a !== '--cameras' && all[i - 1] !== '--cameras');
  const rows: Record<string, unknown>[] = [];
  for (const n of counts) {
    const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1] as string, ...passOn, '--cameras', String(n), '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 });
    const line = child.stdout.trim().split('\n').pop() ?? '';
    let r: Record<string, number | string>;
    try {
      r = JSON.parse(line) as Record<string, number | string>;
    } catch {
      throw new Error(`the ${n}-camera run failed (exit ${child.status}): ${child.stdout.slice(-500)}`);
    }
    const row = {
      cameras: n,
      'effective fps min/mean': `${r.processed_fps_per_camera_min} / ${r.processed_fps_per_camera_mean}`,
      'target fps': r.target_fps_per_camera_mean,
      'dropped %': +(100 * Number(r.dropped_ratio)).toFixed(1),
      'throttled %': +(100 * Number(r.throttled_ratio)).toFixed(1),
      'below-min alert': r.below_min_cameras,
      'capacity fps': r.detector_capacity_fps,
      'CPU gw+ffmpeg %': `${r.cpu_percent_gateway}+${r.cpu_percent_ffmpeg}`,
      'RSS gw MB': r.rss_mb_gateway_peak,
      'PSS gw+ffmpeg MB': Number(r.pss_mb_gateway_peak) + Number(r.pss_mb_ffmpeg_peak_total),
      'p50/p95 ms': `${r.latency_ms_p50} / ${r.latency_ms_p95}`,
      'CPU ms/frame': (r.cpu_ms_per_processed_frame as unknown as Record<string, number>)['total per processed frame (ffmpeg × decoded/processed)'],
      load: `${r.load_average_1m_start} → ${r.load_average_1m_end}`,
    };
    rows.push(row);
    console.log(JSON.stringify({ ...r, per_camera: undefined }));
  }
  console.table(rows);
}

const cameras = Number(values.cameras);
const seconds = Number(values.seconds);
const warmupS = Number(values.warmup);
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const demo = parseYaml(readFileSync(DEMO_CONFIG, 'utf8')) as { cameras: Record<string, unknown>[] };
const template = demo.cameras[0] as Record<string, unknown>;
const rawConfig = {
  data_dir: os.tmpdir(),
  detector: { workers: Number(values.workers), adaptive_fps: !values['fixed-fps'], ...(values.model ? { model: values.model } : {}) },
  cameras: Array.from({ length: cameras }, (_, i) => ({
    ...template,
    id: `cam${i + 1}`,
    name: undefined,
    fps: Number(values.fps),
    min_fps: values['min-fps'] ? Number(values['min-fps']) : undefined,
    width: values.width ? Number(values.width) : undefined,
    height: values.height ? Number(values.height) : undefined,
  })),
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

/**
 * CPU seconds of this process's main thread and of all its other threads (the detector workers,
 * plus V8's and libuv's helper threads), from /proc/self/task: real CPU time, unlike the stage
 * timers, which are wall time and include waiting for a core on a loaded machine.
 */
function threadCpu(): { mainS: number; otherS: number } {
  let mainS = 0;
  let otherS = 0;
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const s = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
      if (Number(tid) === process.pid) mainS += s;
      else otherS += s;
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return { mainS, otherS };
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

const stageTotals = async (): Promise<Map<string, number>> => {
  const totals = new Map<string, number>();
  for (const v of (await metrics.stageSeconds.get()).values) totals.set(String(v.labels.stage), (totals.get(String(v.labels.stage)) ?? 0) + v.value);
  return totals;
};
const stages0 = await stageTotals();
const load0 = os.loadavg()[0] as number;
const before = gateway.status().cameras.map((c) => ({ ...c.frames }));
const cpu0 = process.cpuUsage();
const threads0 = threadCpu();
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
const threads1 = threadCpu();
const kidsCpuS = children().reduce((sum, pid) => sum + (procStat(pid)?.cpuS ?? 0) - (kids0.get(pid) ?? 0), 0);
const machine1 = machineCpu();
const after = gateway.status().cameras;
const stages1 = await stageTotals();
const capacity = (await metrics.detectorCapacityFps.get()).values[0]?.value;
const load1 = os.loadavg()[0] as number;
await gateway.stop();

const perCamera = after.map((c, i) => {
  const b = before[i] as (typeof after)[number]['frames'];
  const input = c.frames.input - b.input;
  const processed = c.frames.processed - b.processed;
  const dropped = c.frames.dropped - b.dropped;
  const throttled = c.frames.throttled - b.throttled;
  return {
    camera: c.id,
    input_fps: +(input / wallS).toFixed(2),
    target_fps: c.fps.target,
    processed_fps: +(processed / wallS).toFixed(2),
    // Of the frames admitted at the target fps, how many were lost waiting for a worker.
    dropped_ratio: input - throttled > 0 ? +(dropped / (input - throttled)).toFixed(4) : 0,
    throttled_ratio: input ? +(throttled / input).toFixed(4) : 0,
    below_min: c.load.below_min,
    motion_skipped: c.frames.motionSkipped - b.motionSkipped,
    restarts: c.source.restarts,
  };
});
const totalInput = perCamera.reduce((s, c) => s + c.input_fps, 0);
const totalAdmitted = perCamera.reduce((s, c) => s + c.input_fps * (1 - c.throttled_ratio), 0);
const totalDropped = perCamera.reduce((s, c) => s + c.dropped_ratio * c.input_fps * (1 - c.throttled_ratio), 0);
const totalThrottled = perCamera.reduce((s, c) => s + c.throttled_ratio * c.input_fps, 0);
/**
 * Per camera, % of one core, summing to what the processes really used: ffmpeg (its children), the
 * main thread (motion gate, tracking, analytics from the gateway's stage timers; the rest is pipe
 * reads, frame assembly, messages to the workers, GC, timers, metrics), and the other threads
 * (detector workers, plus V8/libuv helpers) shared out in proportion to the workers' stage timers.
 */
const stageS = (name: string): number => (stages1.get(name) ?? 0) - (stages0.get(name) ?? 0);
const pct = (cpuS: number): number => +((100 * cpuS) / wallS / cameras).toFixed(2);
const mainCpuS = threads1.mainS - threads0.mainS;
const otherCpuS = threads1.otherS - threads0.otherS;
const workerStages = ['detector_preprocess', 'detector_inference', 'detector_decode'];
const workerWallS = workerStages.reduce((s, n) => s + stageS(n), 0);
const profile: Record<string, number> = { ffmpeg: pct(kidsCpuS) };
for (const name of ['motion_gate', 'tracking', 'analytics']) profile[`main: ${name}`] = pct(stageS(name));
profile['main: pipes, frames, messages, GC'] = pct(mainCpuS - ['motion_gate', 'tracking', 'analytics'].reduce((s, n) => s + stageS(n), 0));
for (const name of workerStages) profile[`workers: ${name.replace('detector_', '')}`] = pct(workerWallS > 0 ? (otherCpuS * stageS(name)) / workerWallS : 0);
profile.total = pct(kidsCpuS + mainCpuS + otherCpuS);
const processedFrames = perCamera.reduce((s, c) => s + c.processed_fps * wallS, 0);
const decodedFrames = perCamera.reduce((s, c) => s + c.input_fps * wallS, 0);
/**
 * ms of CPU per frame: ffmpeg's per frame it delivered, the rest per frame that reached the tracker.
 * CPU time, unlike rates, hardly depends on how busy the shared machine is, so this is the figure to
 * project a machine's capacity from (cores × 1000 / ms per frame).
 */
const perFrameMs: Record<string, number> = {};
for (const [k, v] of Object.entries(profile)) {
  if (k === 'total') continue;
  const frames = k === 'ffmpeg' ? decodedFrames : processedFrames;
  perFrameMs[k] = frames ? +(((v / 100) * wallS * cameras * 1000) / frames).toFixed(2) : 0;
}
perFrameMs['total per processed frame (ffmpeg × decoded/processed)'] = +Object.entries(perFrameMs)
  .reduce((s, [k, v]) => s + (k === 'ffmpeg' && processedFrames ? (v * decodedFrames) / processedFrames : v), 0)
  .toFixed(2);

const report = {
  machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}`,
  cameras,
  target_fps: Number(values.fps),
  decoded_size: values.width ? `${values.width}x${values.height ?? 'aspect'}` : 'detector input (default)',
  detector_workers: Number(values.workers),
  model: values.model ?? 'default',
  seconds: +wallS.toFixed(1),
  processed_fps_per_camera_min: Math.min(...perCamera.map((c) => c.processed_fps)),
  processed_fps_per_camera_mean: +(perCamera.reduce((s, c) => s + c.processed_fps, 0) / cameras).toFixed(2),
  adaptive_fps: !values['fixed-fps'],
  target_fps_per_camera_mean: +(perCamera.reduce((s, c) => s + c.target_fps, 0) / cameras).toFixed(2),
  dropped_ratio: totalAdmitted ? +(totalDropped / totalAdmitted).toFixed(4) : 0,
  throttled_ratio: totalInput ? +(totalThrottled / totalInput).toFixed(4) : 0,
  below_min_cameras: perCamera.filter((c) => c.below_min).length,
  detector_capacity_fps: capacity === undefined || values['fixed-fps'] ? null : +capacity.toFixed(1),
  cpu_percent_gateway: +((100 * (cpu.user + cpu.system)) / 1e6 / wallS).toFixed(1),
  cpu_percent_ffmpeg: +((100 * kidsCpuS) / wallS).toFixed(1),
  cpu_percent_machine: +((100 * os.availableParallelism() * (machine1.busy - machine0.busy)) / (machine1.total - machine0.total)).toFixed(1),
  rss_mb_gateway_peak: Math.round(peakRss / 2 ** 20),
  pss_mb_gateway_peak: Math.round(peakPss / 2 ** 20),
  rss_mb_ffmpeg_peak_total: Math.round(peakChildRss / 2 ** 20),
  pss_mb_ffmpeg_peak_total: Math.round(peakChildPss / 2 ** 20),
  latency_ms_p50: Math.round(percentile(latencies, 50)),
  latency_ms_p95: Math.round(percentile(latencies, 95)),
  load_average_1m_start: +load0.toFixed(2),
  load_average_1m_end: +load1.toFixed(2),
  cpu_percent_of_one_core_per_camera: profile,
  cpu_ms_per_processed_frame: perFrameMs,
  per_camera: perCamera,
};
if (values.json) {
  console.log(JSON.stringify(report));
} else {
  const { per_camera: rows, cpu_percent_of_one_core_per_camera: perStage, cpu_ms_per_processed_frame: perFrame, ...summary } = report;
  for (const [k, v] of Object.entries(summary)) console.log(`${k.padEnd(32)} ${v}`);
  console.log('Where the CPU goes:');
  const totalKey = 'total per processed frame (ffmpeg × decoded/processed)';
  console.table(Object.fromEntries(Object.keys(perStage).map((k) => [k, { '% of a core per camera': perStage[k], 'CPU ms per frame (ffmpeg: per decoded frame)': k === 'total' ? perFrame[totalKey] : perFrame[k] }])));
  console.table(rows);
}
process.exit(0);

/**
 * Writes what a soak run measured into its output directory: soak.json (options, every sample,
 * outages, loss check, trend verdicts, failures) and soak.png (the plot, rendered by sharp from
 * the SVG of soakChart.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { soakChartSvg, type ChartPanel } from './soakChart.js';
import type { SoakReport, SoakSample } from './soakRun.js';

const PANELS: { key: keyof SoakSample; title: string; unit: string; judged: boolean }[] = [
  { key: 'rss_mb', title: 'Resident memory', unit: 'MB', judged: true },
  { key: 'heap_used_mb', title: 'V8 heap used', unit: 'MB', judged: true },
  { key: 'open_fds', title: 'Open file descriptors', unit: 'count', judged: true },
  { key: 'event_loop_lag_p99_ms', title: 'Event-loop delay p99', unit: 'ms', judged: true },
  { key: 'sqlite_mb', title: 'SQLite file + WAL (grows with retained events, not judged)', unit: 'MB', judged: false },
  { key: 'outbox_backlog', title: 'Outbox backlog', unit: 'messages', judged: false },
];

export function soakChartPanels(report: SoakReport): ChartPanel[] {
  return PANELS.map((p) => ({
    title: p.title,
    unit: p.unit,
    points: report.samples.map((s) => ({ t: s.t, value: s[p.key] })),
    ...(p.judged ? { fitFromFraction: 0.5 } : {}),
  }));
}

export async function writeSoakReport(report: SoakReport, outDir: string): Promise<{ json: string; png: string }> {
  await mkdir(outDir, { recursive: true });
  const json = path.join(outDir, 'soak.json');
  const png = path.join(outDir, 'soak.png');
  await writeFile(json, `${JSON.stringify(report, null, 1)}\n`);
  const o = report.options;
  const title = `storepulse soak: ${o.cameras} cameras, ${o.sensorRate} sensor msg/s, broker down ${o.outageS} s every ${o.restartEveryS} s, ${(report.sampledSeconds / 60).toFixed(1)} min`;
  const svg = soakChartSvg({ title, panels: soakChartPanels(report), outages: report.outages });
  await sharp(Buffer.from(svg)).png().toFile(png);
  return { json, png };
}

/**
 * The soak plot as SVG (pure: series in, markup out; scripts/lib/soakReport.ts turns it into a PNG
 * with sharp). One panel per sampled quantity, stacked, sharing the time axis; the broker outages
 * are shaded so a bump can be matched with its cause, and the line fitted over the judged window
 * is drawn in red so the verdict can be checked by eye.
 */
import { fitLine, laterPart, type SeriesPoint } from './soakTrend.js';

export interface ChartPanel {
  title: string;
  unit: string;
  /** Values in display units (MB, ms …). */
  points: SeriesPoint[];
  /** Draw the least-squares line from this fraction of the run on, as the verdict does; none when absent. */
  fitFromFraction?: number;
}

export interface ChartSpec {
  title: string;
  panels: ChartPanel[];
  /** Intervals (seconds since start) when the upstream broker was down. */
  outages: { from: number; to: number }[];
}

const WIDTH = 1000;
const PANEL_HEIGHT = 170;
const MARGIN = { left: 80, right: 20, top: 60, bottom: 40 };
const GAP = 30;

const escapeXml = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

export function soakChartSvg(spec: ChartSpec): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const height = MARGIN.top + spec.panels.length * (PANEL_HEIGHT + GAP) + MARGIN.bottom;
  const allT = spec.panels.flatMap((p) => p.points.map((q) => q.t));
  const tMin = allT.length ? Math.min(...allT) : 0;
  const tMax = allT.length ? Math.max(...allT, tMin + 1) : 1;
  const x = (t: number): number => MARGIN.left + ((t - tMin) / (tMax - tMin)) * plotWidth;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16">${escapeXml(spec.title)}</text>`,
  ];
  spec.panels.forEach((panel, i) => {
    const top = MARGIN.top + i * (PANEL_HEIGHT + GAP);
    const finite = panel.points.filter((p) => Number.isFinite(p.value));
    const values = finite.map((p) => p.value);
    let vMin = values.length ? Math.min(...values) : 0;
    let vMax = values.length ? Math.max(...values) : 1;
    if (vMax - vMin < 1e-9) {
      vMin -= 1;
      vMax += 1;
    }
    const y = (v: number): number => top + PANEL_HEIGHT - ((v - vMin) / (vMax - vMin)) * PANEL_HEIGHT;
    for (const o of spec.outages) parts.push(`<rect x="${x(o.from).toFixed(1)}" y="${top}" width="${Math.max(1, x(o.to) - x(o.from)).toFixed(1)}" height="${PANEL_HEIGHT}" fill="#fde2c4"/>`);
    parts.push(`<rect x="${MARGIN.left}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" fill="none" stroke="#888"/>`);
    // The fitted line may leave the value range (a steep fit over a short window): keep it in its panel.
    parts.push(`<clipPath id="panel${i}"><rect x="${MARGIN.left}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}"/></clipPath>`);
    parts.push(`<text x="${MARGIN.left}" y="${top - 6}">${escapeXml(`${panel.title} (${panel.unit})`)}</text>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${top + 10}" text-anchor="end">${fmt(vMax)}</text>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${top + PANEL_HEIGHT}" text-anchor="end">${fmt(vMin)}</text>`);
    if (finite.length > 1) {
      const path = finite.map((p) => `${x(p.t).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${path}" fill="none" stroke="#1f6feb" stroke-width="1.5"/>`);
    }
    const window = panel.fitFromFraction === undefined ? [] : laterPart(finite, panel.fitFromFraction);
    if (window.length > 2) {
      const fit = fitLine(window);
      const t0 = window[0]!.t;
      const t1 = window[window.length - 1]!.t;
      parts.push(`<line x1="${x(t0).toFixed(1)}" y1="${y(fit.intercept + fit.slope * t0).toFixed(1)}" x2="${x(t1).toFixed(1)}" y2="${y(fit.intercept + fit.slope * t1).toFixed(1)}" stroke="#d1242f" stroke-width="2" clip-path="url(#panel${i})"/>`);
    }
  });
  const axisY = height - MARGIN.bottom + 16;
  parts.push(`<text x="${MARGIN.left}" y="${axisY}">${fmt(tMin / 60)} min</text>`);
  parts.push(`<text x="${WIDTH - MARGIN.right}" y="${axisY}" text-anchor="end">${fmt(tMax / 60)} min</text>`);
  parts.push(`<text x="${WIDTH / 2}" y="${axisY}" text-anchor="middle">time since sampling started · shaded: upstream broker down · red: fit over the judged window</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * The soak plot: the SVG has one panel per quantity, the outages and the fitted line, and sharp
 * really turns it into a PNG of the expected size (a broken SVG would throw or come out empty).
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { soakChartSvg } from '../../scripts/lib/soakChart.js';

const points = Array.from({ length: 50 }, (_, i) => ({ t: i * 6, value: 100 + (i % 5) }));

describe('soakChartSvg', () => {
  it('draws every panel, the outages and the fit over the judged window only', async () => {
    const svg = soakChartSvg({
      title: 'soak <test> & more',
      panels: [
        { title: 'RSS', unit: 'MB', points, fitFromFraction: 0.5 },
        { title: 'SQLite', unit: 'MB', points: points.map((p) => ({ ...p, value: p.t })) },
        { title: 'lag', unit: 'ms', points: [...points.slice(0, 3), { t: 20, value: NaN }] },
      ],
      outages: [{ from: 60, to: 80 }, { from: 200, to: 220 }],
    });
    expect(svg).toContain('soak &#60;test&#62; &#38; more');
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    expect(svg.match(/fill="#fde2c4"/g)).toHaveLength(2 * 3);
    expect(svg.match(/stroke="#d1242f"/g)).toHaveLength(1);
    expect(svg).not.toContain('NaN');

    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBe(1000);
    expect(meta.height).toBeGreaterThan(3 * 170);
    // Not a blank image: the lines are drawn in colour on white.
    const stats = await sharp(png).stats();
    expect(stats.channels[2]!.min).toBeLessThan(128);
  });

  it('draws a constant series without dividing by zero', () => {
    const svg = soakChartSvg({ title: 'flat', panels: [{ title: 'fds', unit: 'count', points: points.map((p) => ({ ...p, value: 40 })), fitFromFraction: 0.5 }], outages: [] });
    expect(svg).not.toMatch(/NaN|Infinity/);
  });
});

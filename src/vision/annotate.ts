import sharp from 'sharp';
import type { Detection, RgbFrame } from './detection.js';

/** Writes the frame with its person boxes drawn on it (an installer's check of what the model sees). */
export async function writeAnnotatedFrame(frame: RgbFrame, detections: Detection[], outPath: string): Promise<void> {
  const stroke = Math.max(2, Math.round(frame.width / 400));
  const boxes = detections
    .map(
      (d) =>
        `<rect x="${d.x1.toFixed(1)}" y="${d.y1.toFixed(1)}" width="${(d.x2 - d.x1).toFixed(1)}" height="${(d.y2 - d.y1).toFixed(1)}" ` +
        `fill="none" stroke="#00e676" stroke-width="${stroke}"/>` +
        `<text x="${d.x1.toFixed(1)}" y="${Math.max(12, d.y1 - 3).toFixed(1)}" font-family="sans-serif" font-size="${6 * stroke}" fill="#00e676">${d.score.toFixed(2)}</text>`,
    )
    .join('');
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${frame.width}" height="${frame.height}">${boxes}</svg>`);
  await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .composite([{ input: svg, top: 0, left: 0 }])
    .png()
    .toFile(outPath);
}

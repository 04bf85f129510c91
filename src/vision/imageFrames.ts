import sharp from 'sharp';
import type { RgbFrame } from './detection.js';

const IMAGE_EXTENSIONS = /\.(png|jpe?g|webp|bmp|tiff?|gif|avif)$/i;
export const isImagePath = (p: string): boolean => IMAGE_EXTENSIONS.test(p);

/** Decodes an image file to one RGB frame (alpha dropped, colour converted to sRGB). */
export async function loadImageFrame(file: string): Promise<RgbFrame> {
  try {
    const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { index: 0, width: info.width, height: info.height, data: new Uint8Array(data), timestampMs: 0 };
  } catch (err) {
    throw new Error(`cannot read image ${file}: ${(err as Error).message}`);
  }
}

/**
 * Frame → model input tensor. sharp (libvips) does the resize and padding; one pass over the
 * resized pixels then normalises and reorders them into the model's layout. That pass is the only
 * per-pixel JavaScript on the hot path (measured by `npm run bench:detector`: ~1 ms at 416²).
 */
import sharp from 'sharp';
import type { RgbFrame } from '../detection.js';
import type { ModelManifest } from './modelManifest.js';

export interface InputGeometry {
  /** Multiply model-input pixels by these to get source pixels. */
  scaleX: number;
  scaleY: number;
}

export async function resizeForModel(frame: RgbFrame, input: ModelManifest['input']): Promise<{ pixels: Uint8Array; geometry: InputGeometry }> {
  const { width, height } = input;
  if (frame.width === width && frame.height === height) {
    return { pixels: frame.data, geometry: { scaleX: 1, scaleY: 1 } };
  }
  const source = sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } });
  if (input.resize === 'stretch') {
    const pixels = await source.resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
    return { pixels, geometry: { scaleX: frame.width / width, scaleY: frame.height / height } };
  }
  const ratio = Math.min(width / frame.width, height / frame.height);
  const scaledW = Math.min(width, Math.round(frame.width * ratio));
  const scaledH = Math.min(height, Math.round(frame.height * ratio));
  const pad = input.padValue;
  const pixels = await source
    .resize(scaledW, scaledH, { fit: 'fill', kernel: 'lanczos3' })
    .extend({ top: 0, left: 0, right: width - scaledW, bottom: height - scaledH, background: { r: pad, g: pad, b: pad } })
    .raw()
    .toBuffer();
  return { pixels, geometry: { scaleX: 1 / ratio, scaleY: 1 / ratio } };
}

/**
 * Interleaved RGB bytes → normalised float tensor in the model's colour order and layout.
 * Writes into `out` (reused across frames) and returns it.
 */
export function toInputTensor(pixels: Uint8Array, input: ModelManifest['input'], out: Float32Array): Float32Array {
  const plane = input.width * input.height;
  if (pixels.length !== plane * 3) throw new Error(`expected ${plane * 3} bytes of RGB, got ${pixels.length}`);
  // Model channel c reads source channel order[c]; the loop runs once per model channel so that
  // the NCHW writes are sequential.
  const order = input.colorOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const src = order[c] as number;
    const scale = 1 / (input.std[c] as number);
    const offset = -(input.mean[c] as number) * scale;
    if (input.layout === 'NCHW') {
      const base = c * plane;
      for (let i = 0, p = src; i < plane; i++, p += 3) out[base + i] = (pixels[p] as number) * scale + offset;
    } else {
      for (let i = 0, p = src, o = c; i < plane; i++, p += 3, o += 3) out[o] = (pixels[p] as number) * scale + offset;
    }
  }
  return out;
}

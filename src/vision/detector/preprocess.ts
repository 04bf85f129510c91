/**
 * Frame → model input tensor. sharp (libvips) resizes when the frame is not already at the size
 * the model wants; one JavaScript pass then normalises the pixels, reorders them into the model's
 * layout and writes a letterbox model's padding straight into the tensor. That pass is the only
 * per-pixel JavaScript on the hot path: in the gateway ffmpeg already scales frames to the model's
 * input (cameraSource.ts decodeSize), so sharp never runs there and this pass is all the
 * preprocessing there is (`npm run bench:detector`, "gateway input").
 */
import sharp from 'sharp';
import type { RgbFrame } from '../detection.js';
import type { ModelManifest } from './modelManifest.js';

export type ModelInput = ModelManifest['input'];

export interface InputGeometry {
  /** Multiply model-input pixels by these to get source pixels. */
  scaleX: number;
  scaleY: number;
}

/** Interleaved RGB pixels that go at the top-left of the model input; anything beyond them is padding. */
export interface ModelImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** The size a letterbox model scales a frame to: the aspect ratio kept, fitting the input. */
function letterboxSize(frame: Pick<RgbFrame, 'width' | 'height'>, input: ModelInput): { width: number; height: number; ratio: number } {
  const ratio = Math.min(input.width / frame.width, input.height / frame.height);
  return {
    width: Math.min(input.width, Math.round(frame.width * ratio)),
    height: Math.min(input.height, Math.round(frame.height * ratio)),
    ratio,
  };
}

/**
 * The frame scaled for the model, without padding (fillInputTensor pads). A frame already at the
 * scaled size — what the gateway's ffmpeg delivers: the model's input for a stretch model, its
 * width with the aspect ratio kept for a letterbox one — is used as it is, with no sharp call.
 */
export async function scaleForModel(frame: RgbFrame, input: ModelInput): Promise<{ image: ModelImage; geometry: InputGeometry }> {
  if (input.resize === 'stretch') {
    if (frame.width === input.width && frame.height === input.height) return { image: frame, geometry: { scaleX: 1, scaleY: 1 } };
    const data = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
      .resize(input.width, input.height, { fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    return { image: { data, width: input.width, height: input.height }, geometry: { scaleX: frame.width / input.width, scaleY: frame.height / input.height } };
  }
  const { width, height, ratio } = letterboxSize(frame, input);
  const geometry = { scaleX: 1 / ratio, scaleY: 1 / ratio };
  if (frame.width === width && frame.height === height) return { image: frame, geometry };
  const data = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { image: { data, width, height }, geometry };
}

/**
 * The model's whole input as interleaved RGB bytes, padding included (sharp extend). Kept for the
 * int8 calibration (src/modelconv), which stores tensors built this way; the detector itself uses
 * scaleForModel + fillInputTensor, which give the same tensor (tests/vision/letterboxPadding.test.ts).
 */
export async function resizeForModel(frame: RgbFrame, input: ModelInput): Promise<{ pixels: Uint8Array; geometry: InputGeometry }> {
  const { width, height } = input;
  if (frame.width === width && frame.height === height) {
    return { pixels: frame.data, geometry: { scaleX: 1, scaleY: 1 } };
  }
  const source = sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } });
  if (input.resize === 'stretch') {
    const pixels = await source.resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
    return { pixels, geometry: { scaleX: frame.width / width, scaleY: frame.height / height } };
  }
  const scaled = letterboxSize(frame, input);
  const pad = input.padValue;
  const pixels = await source
    .resize(scaled.width, scaled.height, { fit: 'fill', kernel: 'lanczos3' })
    .extend({ top: 0, left: 0, right: width - scaled.width, bottom: height - scaled.height, background: { r: pad, g: pad, b: pad } })
    .raw()
    .toBuffer();
  return { pixels, geometry: { scaleX: 1 / scaled.ratio, scaleY: 1 / scaled.ratio } };
}

/**
 * Interleaved RGB bytes of the whole model input → normalised float tensor in the model's colour
 * order and layout. Writes into `out` (reused across frames) and returns it.
 */
export function toInputTensor(pixels: Uint8Array, input: ModelInput, out: Float32Array): Float32Array {
  const plane = input.width * input.height;
  if (pixels.length !== plane * 3) throw new Error(`expected ${plane * 3} bytes of RGB, got ${pixels.length}`);
  return fillInputTensor({ data: pixels, width: input.width, height: input.height }, input, out);
}

/**
 * `image` at the top-left of the model input, normalised into `out` in the model's colour order and
 * layout; the columns right of it and the rows below it get the pad value, normalised the same way
 * (so the tensor is exactly what sharp's extend followed by toInputTensor would give, without
 * building and reading a padded copy of the frame). Returns `out`.
 */
export function fillInputTensor(image: ModelImage, input: ModelInput, out: Float32Array): Float32Array {
  const { width: w, height: h, data } = image;
  const W = input.width;
  const H = input.height;
  const plane = W * H;
  if (w > W || h > H) throw new Error(`a ${w}x${h} image does not fit the model's ${W}x${H} input`);
  if (data.length !== w * h * 3) throw new Error(`expected ${w * h * 3} bytes of RGB for ${w}x${h}, got ${data.length}`);
  if (out.length !== plane * 3) throw new Error(`expected a tensor of ${plane * 3} values, got ${out.length}`);
  // Model channel c reads source channel order[c].
  const [c0, c1, c2] = input.colorOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const [s0, s1, s2] = [0, 1, 2].map((c) => 1 / (input.std[c] as number)) as [number, number, number];
  const o0 = -(input.mean[0] as number) * s0;
  const o1 = -(input.mean[1] as number) * s1;
  const o2 = -(input.mean[2] as number) * s2;
  // The pad value as a byte (what sharp writes), through the same arithmetic as a pixel: bit-identical.
  const pad = Math.min(255, Math.max(0, Math.round(input.padValue)));
  const p0 = pad * s0 + o0;
  const p1 = pad * s1 + o1;
  const p2 = pad * s2 + o2;
  if (input.layout === 'NCHW') {
    const g0 = plane;
    const b0 = 2 * plane;
    if (w === W) {
      // Whole rows: one run over the image. Reading each pixel once and writing the three planes is
      // ~1.5× faster than one strided pass per plane (measured at 416², same output to the bit).
      for (let i = 0, p = 0, g = g0, b = b0, n = w * h; i < n; i++, p += 3, g++, b++) {
        out[i] = (data[p + c0] as number) * s0 + o0;
        out[g] = (data[p + c1] as number) * s1 + o1;
        out[b] = (data[p + c2] as number) * s2 + o2;
      }
    } else {
      for (let y = 0, p = 0; y < h; y++) {
        const row = y * W;
        for (let i = row, end = row + w; i < end; i++, p += 3) {
          out[i] = (data[p + c0] as number) * s0 + o0;
          out[g0 + i] = (data[p + c1] as number) * s1 + o1;
          out[b0 + i] = (data[p + c2] as number) * s2 + o2;
        }
        out.fill(p0, row + w, row + W);
        out.fill(p1, g0 + row + w, g0 + row + W);
        out.fill(p2, b0 + row + w, b0 + row + W);
      }
    }
    // Rows below the image: a native fill per plane.
    out.fill(p0, h * W, plane);
    out.fill(p1, g0 + h * W, g0 + plane);
    out.fill(p2, b0 + h * W, b0 + plane);
  } else {
    for (let y = 0, p = 0; y < h; y++) {
      let o = y * W * 3;
      for (let x = 0; x < w; x++, p += 3, o += 3) {
        out[o] = (data[p + c0] as number) * s0 + o0;
        out[o + 1] = (data[p + c1] as number) * s1 + o1;
        out[o + 2] = (data[p + c2] as number) * s2 + o2;
      }
      for (let x = w; x < W; x++, o += 3) {
        out[o] = p0;
        out[o + 1] = p1;
        out[o + 2] = p2;
      }
    }
    for (let o = h * W * 3; o < plane * 3; o += 3) {
      out[o] = p0;
      out[o + 1] = p1;
      out[o + 2] = p2;
    }
  }
  return out;
}

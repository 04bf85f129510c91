/**
 * Model outputs → person candidates in source pixels (before NMS). Only the person class is
 * read, and box geometry is computed only for cells above the score threshold, so decoding costs
 * one pass over the score column rather than over every output value.
 */
import type { Detection } from '../detection.js';
import type { ModelManifest } from './modelManifest.js';
import type { InputGeometry } from './preprocess.js';

export interface OutputTensor {
  dims: readonly number[];
  data: Float32Array;
}

export interface DecodeContext {
  manifest: ModelManifest;
  geometry: InputGeometry;
  /** Source frame size, to clip boxes. */
  frameWidth: number;
  frameHeight: number;
}

export type Decoder = (outputs: Record<string, OutputTensor>, ctx: DecodeContext) => Detection[];

function toSourceBox(x1: number, y1: number, x2: number, y2: number, score: number, ctx: DecodeContext): Detection {
  const { scaleX, scaleY } = ctx.geometry;
  return {
    x1: Math.max(0, x1 * scaleX),
    y1: Math.max(0, y1 * scaleY),
    x2: Math.min(ctx.frameWidth, x2 * scaleX),
    y2: Math.min(ctx.frameHeight, y2 * scaleY),
    score,
  };
}

/** One entry per grid cell over all strides, in the order the heads emit them (stride-major, row-major). */
interface GridCell {
  x: number;
  y: number;
  stride: number;
}

const gridCache = new Map<string, GridCell[]>();
function gridFor(width: number, height: number, strides: number[]): GridCell[] {
  const key = `${width}x${height}:${strides.join(',')}`;
  let cells = gridCache.get(key);
  if (!cells) {
    cells = [];
    for (const stride of strides) {
      const gw = Math.ceil(width / stride);
      const gh = Math.ceil(height / stride);
      for (let y = 0; y < gh; y++) for (let x = 0; x < gw; x++) cells.push({ x, y, stride });
    }
    gridCache.set(key, cells);
  }
  return cells;
}

/** YOLOX raw grid output [1, N, 5 + classes]: (dx, dy, log w, log h, objectness, class scores…), sigmoids applied. */
export const decodeYolox: Decoder = (outputs, ctx) => {
  const { manifest } = ctx;
  if (manifest.decoder.type !== 'yolox') throw new Error('decodeYolox needs a yolox manifest');
  const tensor = Object.values(outputs)[0];
  if (!tensor) throw new Error('YOLOX model returned no output');
  const [, count, width] = tensor.dims as [number, number, number];
  const expectedWidth = 5 + manifest.numClasses;
  if (width !== expectedWidth) throw new Error(`YOLOX output has ${width} values per cell, expected ${expectedWidth}`);
  const grid = gridFor(manifest.input.width, manifest.input.height, manifest.decoder.strides);
  if (grid.length !== count) throw new Error(`YOLOX output has ${count} cells, the input size implies ${grid.length}`);
  const data = tensor.data;
  const threshold = manifest.scoreThreshold;
  const out: Detection[] = [];
  for (let i = 0, base = 0; i < count; i++, base += width) {
    const objectness = data[base + 4] as number;
    if (objectness < threshold) continue; // score = objectness × class ≤ objectness
    const score = objectness * (data[base + 5 + manifest.personClass] as number);
    if (score < threshold) continue;
    const cell = grid[i] as GridCell;
    const cx = ((data[base] as number) + cell.x) * cell.stride;
    const cy = ((data[base + 1] as number) + cell.y) * cell.stride;
    const w = Math.exp(data[base + 2] as number) * cell.stride;
    const h = Math.exp(data[base + 3] as number) * cell.stride;
    out.push(toSourceBox(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score, ctx));
  }
  return out;
};

/** Expected value of a softmax over `bins` logits starting at `offset`. */
function distributionMean(data: Float32Array, offset: number, bins: number): number {
  let max = -Infinity;
  for (let b = 0; b < bins; b++) max = Math.max(max, data[offset + b] as number);
  let sum = 0;
  let weighted = 0;
  for (let b = 0; b < bins; b++) {
    const e = Math.exp((data[offset + b] as number) - max);
    sum += e;
    weighted += e * b;
  }
  return weighted / sum;
}

/**
 * NanoDet (GFL head) as exported to TFJS: per stride a class tensor [1, g², classes] (sigmoided)
 * and a box tensor [1, g², 4 × bins] holding, for the sides left, top, right, bottom, a
 * distribution over distances 0..bins-1 in stride units, measured from the cell centre.
 */
export const decodeNanodet: Decoder = (outputs, ctx) => {
  const { manifest } = ctx;
  if (manifest.decoder.type !== 'nanodet') throw new Error('decodeNanodet needs a nanodet manifest');
  const { strides, bins } = manifest.decoder;
  const classes = manifest.numClasses;
  const tensors = Object.values(outputs);
  const threshold = manifest.scoreThreshold;
  const out: Detection[] = [];
  for (const stride of strides) {
    const gw = Math.ceil(manifest.input.width / stride);
    const gh = Math.ceil(manifest.input.height / stride);
    const cells = gw * gh;
    // The output names carry no stride; the cell count and last dimension identify each tensor.
    const scores = tensors.find((t) => t.dims[1] === cells && t.dims[2] === classes);
    const boxes = tensors.find((t) => t.dims[1] === cells && t.dims[2] === 4 * bins);
    if (!scores || !boxes) throw new Error(`NanoDet outputs lack the stride-${stride} head (${cells} cells)`);
    for (let cell = 0; cell < cells; cell++) {
      const score = scores.data[cell * classes + manifest.personClass] as number;
      if (score < threshold) continue;
      const cx = ((cell % gw) + 0.5) * stride;
      const cy = (Math.floor(cell / gw) + 0.5) * stride;
      const base = cell * 4 * bins;
      const left = distributionMean(boxes.data, base, bins) * stride;
      const top = distributionMean(boxes.data, base + bins, bins) * stride;
      const right = distributionMean(boxes.data, base + 2 * bins, bins) * stride;
      const bottom = distributionMean(boxes.data, base + 3 * bins, bins) * stride;
      out.push(toSourceBox(cx - left, cy - top, cx + right, cy + bottom, score, ctx));
    }
  }
  return out;
};

export const DECODERS: Record<ModelManifest['decoder']['type'], Decoder> = {
  yolox: decodeYolox,
  nanodet: decodeNanodet,
};

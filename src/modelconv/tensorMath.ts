/** Small dense-tensor helpers used at conversion time (never on the inference path). */

type Numeric = Float32Array | Int32Array;

/** Permutes the axes of a row-major tensor: output axis i is input axis perm[i] (ONNX Transpose semantics). */
export function transposeData<T extends Numeric>(data: T, dims: number[], perm: number[]): T {
  const rank = dims.length;
  const outDims = perm.map((p) => dims[p] as number);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = (inStrides[i + 1] as number) * (dims[i + 1] as number);
  const strideForOutAxis = perm.map((p) => inStrides[p] as number);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < data.length; o++) {
    let src = 0;
    for (let a = 0; a < rank; a++) src += (index[a] as number) * (strideForOutAxis[a] as number);
    out[o] = data[src] as number;
    for (let a = rank - 1; a >= 0; a--) {
      index[a] = (index[a] as number) + 1;
      if ((index[a] as number) < (outDims[a] as number)) break;
      index[a] = 0;
    }
  }
  return out;
}

/** Inverse of a permutation. */
export function invertPermutation(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** Composition: applying `first` then `second` equals one transpose by the returned permutation. */
export function composePermutations(first: number[], second: number[]): number[] {
  return second.map((s) => first[s] as number);
}

export const isIdentityPermutation = (perm: number[]): boolean => perm.every((p, i) => p === i);

/** Float32 → IEEE half bits; exact for values that are representable in half precision. */
export function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const mantissa = bits & 0x7fffff;
  if (((bits >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    const m = (mantissa | 0x800000) >>> (1 - exponent);
    return sign | ((m + 0x1000) >>> 13);
  }
  return sign | (exponent << 10) | ((mantissa + 0x1000) >>> 13);
}

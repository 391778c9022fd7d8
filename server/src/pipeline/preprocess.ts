/**
 * Preprocess stage: a grey image in [0, 1] → the vision model's input tensor.
 *
 * Exact definition (mirrored bit for bit by models/xraygpt-mini/train/preprocess.py):
 *  1. quantize: q = round(g × 255) (0..255; an 8-bit source is recovered exactly);
 *  2. resize to the model's width × height by area averaging, separably — rows first, then
 *     columns — in float64, summing source samples in ascending order with weights
 *     overlap / scale (scale = source size / target size);
 *  3. normalize: (value / 255 − mean) / std per channel, in float64, then rounded to float32;
 *     grey is repeated for 3-channel models. Layout NCHW, batch 1.
 */
import type { VisionSpec } from "../models/manifest.js";

export interface GrayImage {
  width: number;
  height: number;
  /** Row-major grey values in [0, 1]. */
  data: Float32Array;
}

/** Step 1's result: grey quantized to 0..255. */
export interface ByteImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Step 1: q = round(g × 255). */
export function quantize(img: GrayImage): ByteImage {
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(img.data[i]! * 255);
  return { width: img.width, height: img.height, data };
}

interface AxisWeights {
  /** First source index of each output sample. */
  start: Int32Array;
  /** Weights of consecutive source samples, per output sample. */
  weights: Float64Array[];
}

const weightCache = new Map<string, AxisWeights>();

/** Area-averaging weights from `src` samples to `dst` samples. */
export function areaWeights(src: number, dst: number): AxisWeights {
  const key = `${src}:${dst}`;
  const cached = weightCache.get(key);
  if (cached) return cached;
  const scale = src / dst;
  const start = new Int32Array(dst);
  const weights: Float64Array[] = [];
  for (let i = 0; i < dst; i++) {
    const lo = i * scale;
    const hi = (i + 1) * scale;
    const first = Math.floor(lo);
    const last = Math.min(src, Math.ceil(hi)) - 1;
    const w = new Float64Array(last - first + 1);
    for (let j = first; j <= last; j++) w[j - first] = (Math.min(hi, j + 1) - Math.max(lo, j)) / scale;
    start[i] = first;
    weights.push(w);
  }
  const result = { start, weights };
  if (weightCache.size > 64) weightCache.clear();
  weightCache.set(key, result);
  return result;
}

/** `areaWeights` laid out flat for the resize loops: output i's weights are `weights[offset[i] .. offset[i + 1])`. */
interface FlatWeights {
  start: Int32Array;
  offset: Int32Array;
  weights: Float64Array;
}

const flatCache = new Map<string, FlatWeights>();

function flatWeights(src: number, dst: number): FlatWeights {
  const key = `${src}:${dst}`;
  const cached = flatCache.get(key);
  if (cached) return cached;
  const { start, weights } = areaWeights(src, dst);
  const offset = new Int32Array(dst + 1);
  for (let i = 0; i < dst; i++) offset[i + 1] = offset[i]! + weights[i]!.length;
  const flat = new Float64Array(offset[dst]!);
  weights.forEach((w, i) => flat.set(w, offset[i]!));
  const result = { start, offset, weights: flat };
  if (flatCache.size > 64) flatCache.clear();
  flatCache.set(key, result);
  return result;
}

/**
 * Step 2: area-resized values (float64), in the source's scale. Also used, on 16-bit grey, to
 * downscale images for the viewer.
 *
 * One pass over the source rows: rows are resized along x (four at a time, sharing the weight
 * reads) into a small buffer, then each is added, weighted, into every output row it covers. Each output value is therefore the same sums in
 * the same order as the two-pass definition (rows first into a sh × width image, then columns):
 * a row's x sums start at 0 and add source samples in ascending order; an output's y sum starts
 * at 0 and adds the rows' values in ascending row order. Nothing of source size is allocated.
 */
export function resizeArea(img: { width: number; height: number; data: Uint8Array | Uint16Array }, width: number, height: number): Float64Array {
  const { width: sw, height: sh, data } = img;
  const wx = flatWeights(sw, width);
  const wy = flatWeights(sh, height);
  const out = new Float64Array(height * width);
  // Source rows are resized four at a time (the weights are read once for all of them); past
  // the last row, the last row stands in for the missing ones, and their values are not used.
  const rows = new Float64Array(4 * width);
  let first = 0; // output rows before it are complete
  for (let y0 = 0; y0 < sh; y0 += 4) {
    const n = Math.min(4, sh - y0);
    const step = (r: number) => Math.min(r, n - 1) * sw;
    resizeRows4(data, y0 * sw, [step(1), step(2), step(3)], wx, rows);
    for (let r = 0; r < n; r++) {
      const y = y0 + r;
      while (first < height && wy.start[first]! + (wy.offset[first + 1]! - wy.offset[first]!) <= y) first++;
      for (let oy = first; oy < height && wy.start[oy]! <= y; oy++) {
        const w = wy.weights[wy.offset[oy]! + y - wy.start[oy]!]!;
        const o = oy * width;
        const at = r * width;
        for (let ox = 0; ox < width; ox++) out[o + ox] += w * rows[at + ox]!;
      }
    }
  }
  return out;
}

/**
 * Four source rows resized along x into `out`, row after row: the row at `base` and those at
 * `base + next[0]`, `base + next[1]`, `base + next[2]`.
 */
function resizeRows4(data: Uint8Array | Uint16Array, base: number, next: [number, number, number], wx: FlatWeights, out: Float64Array): void {
  const { start, offset, weights } = wx;
  const width = start.length;
  const [d1, d2, d3] = next;
  for (let ox = 0; ox < width; ox++) {
    let s = base + start[ox]!;
    const end = offset[ox + 1]!;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (let k = offset[ox]!; k < end; k++, s++) {
      const w = weights[k]!;
      a0 += w * data[s]!;
      a1 += w * data[s + d1]!;
      a2 += w * data[s + d2]!;
      a3 += w * data[s + d3]!;
    }
    out[ox] = a0;
    out[width + ox] = a1;
    out[2 * width + ox] = a2;
    out[3 * width + ox] = a3;
  }
}

/**
 * The full preprocess: NCHW float32 tensor data for the manifest's vision input. Takes grey in
 * [0, 1], or grey already quantized (the decode stage's `toGrayBytes`, the daemon's fast path).
 */
export function preprocess(img: GrayImage | ByteImage, input: VisionSpec["input"]): Float32Array {
  const { width, height, channels, mean, std } = input;
  const bytes = img.data instanceof Uint8Array ? (img as ByteImage) : quantize(img as GrayImage);
  const resized = resizeArea(bytes, width, height);
  const plane = width * height;
  const out = new Float32Array(plane * channels);
  for (let c = 0; c < channels; c++) {
    const m = mean[c]!;
    const s = std[c]!;
    for (let i = 0; i < plane; i++) out[c * plane + i] = (resized[i]! / 255 - m) / s;
  }
  return out;
}

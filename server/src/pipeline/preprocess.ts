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

/**
 * Step 2: area-resized values (float64), in the source's scale. Also used, on 16-bit grey, to
 * downscale images for the viewer.
 */
export function resizeArea(img: { width: number; height: number; data: Uint8Array | Uint16Array }, width: number, height: number): Float64Array {
  const { width: sw, height: sh, data } = img;
  const wx = areaWeights(sw, width);
  const wy = areaWeights(sh, height);
  // Rows first: sh × width.
  const tmp = new Float64Array(sh * width);
  for (let y = 0; y < sh; y++) {
    const base = y * sw;
    for (let ox = 0; ox < width; ox++) {
      const s = base + wx.start[ox]!;
      const w = wx.weights[ox]!;
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k]! * data[s + k]!;
      tmp[y * width + ox] = acc;
    }
  }
  // Then columns: height × width.
  const out = new Float64Array(height * width);
  for (let oy = 0; oy < height; oy++) {
    const s = wy.start[oy]!;
    const w = wy.weights[oy]!;
    for (let ox = 0; ox < width; ox++) {
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k]! * tmp[(s + k) * width + ox]!;
      out[oy * width + ox] = acc;
    }
  }
  return out;
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

import { test } from "node:test";
import assert from "node:assert/strict";
import { areaWeights, preprocess, quantize, resizeArea, type GrayImage } from "./preprocess.js";
import { toGray, toGrayBytes } from "./decode/index.js";
import type { DecodedImage } from "./decode/index.js";
import { mulberry32 } from "../util/random.js";

const random = mulberry32(11);

function grey(width: number, height: number): GrayImage {
  return { width, height, data: Float32Array.from({ length: width * height }, () => random()) };
}

test("area weights of each output sum to 1 and cover the source once", () => {
  for (const [src, dst] of [[100, 28], [77, 28], [28, 28], [10, 30], [2048, 224]] as const) {
    const { start, weights } = areaWeights(src, dst);
    const coverage = new Float64Array(src);
    weights.forEach((w, i) => {
      assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-12, `${src}→${dst} output ${i}`);
      w.forEach((x, k) => (coverage[start[i]! + k] += (x * src) / dst));
    });
    coverage.forEach((c) => assert.ok(Math.abs(c - 1) < 1e-9));
  }
});

test("resizing to the same size is the identity; a constant stays constant", () => {
  const img = quantize(grey(13, 9));
  assert.deepEqual(Array.from(resizeArea(img, 13, 9)), Array.from(img.data));
  const flat = { width: 100, height: 77, data: new Uint8Array(100 * 77).fill(200) };
  for (const v of resizeArea(flat, 28, 28)) assert.ok(Math.abs(v - 200) < 1e-9);
});

test("a 2×2 block average by hand", () => {
  const img = { width: 4, height: 2, data: Uint8Array.from([0, 10, 20, 30, 40, 50, 60, 70]) };
  assert.deepEqual(Array.from(resizeArea(img, 2, 1)), [25, 45]);
});

test("normalization per channel, grey repeated for 3 channels", () => {
  const img = { width: 2, height: 1, data: Uint8Array.from([0, 255]) };
  const t = preprocess(img, { name: "x", width: 2, height: 1, channels: 3, mean: [0.5, 0, 1], std: [0.5, 1, 2] });
  assert.deepEqual(Array.from(t), [-1, 1, 0, 1, -0.5, 0]);
});

test("the byte fast path equals quantize(toGray(...)) and gives the same tensor", () => {
  const width = 61;
  const height = 47;
  const pixels = Uint16Array.from({ length: width * height }, () => Math.floor(random() * 65536));
  const img = { width, height, pixels, window: { center: 30000.5, width: 21000 } } as unknown as DecodedImage;
  for (const window of [img.window, { center: 32767.5, width: 65535 }, { center: 100, width: 1 }]) {
    const bytes = toGrayBytes(img, window);
    assert.deepEqual(bytes.data, quantize(toGray(img, window)).data);
  }
  const input = { name: "x", width: 28, height: 28, channels: 1 as const, mean: [0.5], std: [0.25] };
  assert.deepEqual(preprocess(toGrayBytes(img), input), preprocess(toGray(img), input));
});

/** The resize as the module comment defines it: rows first into a sh × width image, then columns. */
function twoPassResize(img: { width: number; height: number; data: Uint8Array | Uint16Array }, width: number, height: number): Float64Array {
  const wx = areaWeights(img.width, width);
  const wy = areaWeights(img.height, height);
  const tmp = new Float64Array(img.height * width);
  for (let y = 0; y < img.height; y++)
    for (let ox = 0; ox < width; ox++) {
      let acc = 0;
      wx.weights[ox]!.forEach((w, k) => (acc += w * img.data[y * img.width + wx.start[ox]! + k]!));
      tmp[y * width + ox] = acc;
    }
  const out = new Float64Array(height * width);
  for (let oy = 0; oy < height; oy++)
    for (let ox = 0; ox < width; ox++) {
      let acc = 0;
      wy.weights[oy]!.forEach((w, k) => (acc += w * tmp[(wy.start[oy]! + k) * width + ox]!));
      out[oy * width + ox] = acc;
    }
  return out;
}

test("resizeArea gives exactly the two-pass values: down, up and mixed, any row count, 8 and 16 bits", () => {
  const sizes = [[100, 77, 28, 28], [37, 53, 28, 28], [10, 30, 28, 28], [3, 2, 17, 9], [1, 1, 5, 7], [300, 211, 64, 48], [448, 448, 224, 224], [1000, 10, 1, 1], [64, 9, 64, 9]] as const;
  for (const [sw, sh, w, h] of sizes) {
    for (const max of [256, 65536]) {
      const values = Array.from({ length: sw * sh }, () => Math.floor(random() * max));
      const data = max === 256 ? Uint8Array.from(values) : Uint16Array.from(values);
      const img = { width: sw, height: sh, data };
      const got = resizeArea(img, w, h);
      const want = twoPassResize(img, w, h);
      assert.ok(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), `${sw}×${sh} → ${w}×${h}, max ${max - 1}`);
    }
  }
});

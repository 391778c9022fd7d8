import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { preprocess, type GrayImage } from "../../pipeline/preprocess.js";
import { mulberry32 } from "../../util/random.js";
import { TRAIN_DIR, SYSTEM_PYTHON, pythonUnavailable } from "./paths.js";

function synthetic(width: number, height: number, seed: number): GrayImage {
  const r = mulberry32(seed);
  const data = new Float32Array(width * height);
  // A gradient with noise and a few exact-half quantization cases (k + 0.5) / 255.
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      data[i] = i % 17 === 0 ? (Math.floor(r() * 255) + 0.5) / 255 : Math.min(1, Math.max(0, (x / width) * 0.6 + (y / height) * 0.3 + r() * 0.1));
    }
  return { width, height, data };
}

function pythonTensor(img: GrayImage, input: { width: number; height: number; channels: 1 | 3; mean: number[]; std: number[] }): Float32Array {
  const spec = { width: img.width, height: img.height, data: Array.from(img.data), outW: input.width, outH: input.height, channels: input.channels, mean: input.mean, std: input.std };
  const r = spawnSync(SYSTEM_PYTHON, ["preprocess.py"], { cwd: TRAIN_DIR, input: JSON.stringify(spec), maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `preprocess.py failed: ${r.stderr?.toString()}`);
  const buf = r.stdout as Buffer;
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

const missing = pythonUnavailable();
const cases: Array<[number, number, number, number, 1 | 3]> = [
  [100, 77, 28, 28, 1],
  [37, 53, 28, 28, 1],
  [28, 28, 28, 28, 1],
  [300, 211, 64, 48, 3],
];

for (const [sw, sh, w, h, c] of cases) {
  test(`Python preprocess.py gives the same float32 tensor as the daemon's preprocess() (${sw}×${sh} → ${w}×${h}, ${c} ch)`, { skip: missing ?? false }, () => {
    const img = synthetic(sw, sh, sw * 1000 + sh);
    const input = { name: "image", width: w, height: h, channels: c, mean: c === 1 ? [0.5766] : [0.485, 0.456, 0.406], std: c === 1 ? [0.1646] : [0.229, 0.224, 0.225] };
    const ts = preprocess(img, input);
    const py = pythonTensor(img, input);
    assert.equal(py.length, ts.length);
    const tb = Buffer.from(ts.buffer, ts.byteOffset, ts.byteLength);
    const pb = Buffer.from(py.buffer, py.byteOffset, py.byteLength);
    const firstDiff = tb.findIndex((b, i) => b !== pb[i]);
    assert.equal(firstDiff, -1, `first differing value at ${Math.floor(firstDiff / 4)}: ts ${ts[Math.floor(firstDiff / 4)]} py ${py[Math.floor(firstDiff / 4)]}`);
  });
}

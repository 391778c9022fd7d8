import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyClassifier } from "../testing/tiny-onnx.js";
import { VisionModel } from "./vision.js";
import { preprocess } from "./preprocess.js";
import { occlusionGeometry, occlusionMaps } from "./saliency.js";
import type { VisionSpec } from "../models/manifest.js";

const W = 28, H = 28;
// "Region" looks only at pixels x 18..23, y 4..9; "Flat" looks at nothing (a constant model).
const inRegion = (x: number, y: number) => x >= 18 && x < 24 && y >= 4 && y < 10;
const spec: VisionSpec = {
  file: "vision.onnx",
  input: { name: "image", width: W, height: H, channels: 1, mean: [0.5], std: [0.25] },
  outputs: [{ kind: "labels", name: "probs", activation: "sigmoid", labels: ["Region", "Flat"], role: "findings" }],
} as VisionSpec;

test("occlusion: the map's maximum lies in the region the model reads; a constant model's map is flat", async () => {
  const dir = await mkdtemp(join(tmpdir(), "xraygpt-saliency-"));
  try {
    const weights = new Float32Array(W * H * 2);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (inRegion(x, y)) weights[(y * W + x) * 2] = 0.05;
    await writeTinyClassifier(join(dir, "v.onnx"), { width: W, height: H, labels: ["Region", "Flat"], weights });
    const model = await VisionModel.load(join(dir, "v.onnx"), spec, "cpu");
    try {
      // A bright image with some texture, so hiding any region of it changes the input.
      const data = Float32Array.from({ length: W * H }, (_, i) => 0.8 + 0.2 * ((i * 7) % 5) / 4);
      const tensor = preprocess({ width: W, height: H, data }, spec.input);
      const maps = await occlusionMaps(model, tensor, spec.input);
      assert.deepEqual(maps.map((m) => m.finding), ["Region", "Flat"]);
      const [region, flat] = maps;
      const { cell, cols, rows } = occlusionGeometry(spec.input);
      assert.equal(region!.values.length, cols * rows);
      const best = region!.values.indexOf(region!.max);
      const bx = (best % cols) * cell, by = Math.floor(best / cols) * cell;
      assert.ok(inRegion(bx, by), `maximum at cell (${best % cols}, ${Math.floor(best / cols)}) = pixel (${bx}, ${by}), outside the region`);
      assert.ok(region!.max > 0.01, `the region's drop is ${region!.max}`);
      // Cells far from the region: no effect at all.
      assert.equal(region!.values[(rows - 1) * cols], 0);
      assert.equal(flat!.max - flat!.min, 0);
      // One finding only; an unknown one is refused by name.
      const one = await occlusionMaps(model, tensor, spec.input, "Flat");
      assert.deepEqual(one.map((m) => m.finding), ["Flat"]);
      await assert.rejects(occlusionMaps(model, tensor, spec.input, "Nope"), /"Nope" is not one of the model's findings/);
    } finally {
      await model.dispose();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("occlusion geometry: about 14 cells a side whatever the input size", () => {
  assert.deepEqual(occlusionGeometry({ width: 28, height: 28 }), { cell: 2, cols: 14, rows: 14 });
  assert.deepEqual(occlusionGeometry({ width: 224, height: 224 }), { cell: 16, cols: 14, rows: 14 });
  assert.deepEqual(occlusionGeometry({ width: 8, height: 8 }), { cell: 1, cols: 8, rows: 8 });
});

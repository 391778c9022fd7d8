import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { loadManifest } from "../manifest.js";
import { preprocess } from "../../pipeline/preprocess.js";
import { VisionModel } from "../../pipeline/vision.js";
import { OBSERVATIONS } from "../../metrics/chexpert.js";
import { MANIFEST_PATH, TRAIN_DIR } from "./paths.js";

interface VisionFixture {
  images: number[][][];
  findings: number[][];
  view: number[][];
}

test("model.json is a valid manifest whose files exist and fit the 30 MB budget", async () => {
  const m = await loadManifest(MANIFEST_PATH);
  assert.equal(m.manifest.id, "xraygpt-mini");
  assert.equal(m.manifest.conditioning.mode, "findings-text");
  const sizes = await Promise.all([stat(m.visionPath!), stat(m.llmPath!)]);
  const total = sizes.reduce((s, x) => s + x.size, 0);
  assert.ok(total <= 30 * 1024 * 1024, `weights take ${total} bytes`);
  for (const o of m.manifest.vision!.outputs) {
    assert.equal(o.kind, "labels");
    if (o.kind === "labels" && o.role === "findings") for (const l of o.labels) assert.ok((OBSERVATIONS as readonly string[]).includes(l), `${l} is not a CheXpert observation`);
    if (o.kind === "labels" && o.role === "view") assert.deepEqual(o.labels, ["frontal", "lateral"]);
  }
  assert.ok(m.manifest.prompt.template.includes("{findings}"));
});

test("onnxruntime-node gives PyTorch's outputs on the daemon-preprocessed images", async () => {
  const m = await loadManifest(MANIFEST_PATH);
  const fx = JSON.parse(await readFile(`${TRAIN_DIR}vision-parity.json`, "utf8")) as VisionFixture;
  const vision = await VisionModel.load(m.visionPath!, m.manifest.vision!, "cpu");
  try {
    const { width, height } = m.manifest.vision!.input;
    for (let k = 0; k < fx.images.length; k++) {
      const px = fx.images[k]!.flat();
      assert.equal(px.length, width * height);
      const tensor = preprocess({ width, height, data: Float32Array.from(px, (v) => v / 255) }, m.manifest.vision!.input);
      const out = await vision.run(tensor);
      assert.equal(out.labels.length, fx.findings[k]!.length);
      fx.findings[k]!.forEach((logit, j) => {
        const p = 1 / (1 + Math.exp(-logit));
        assert.ok(Math.abs(out.labels[j]!.probability - p) < 1e-5, `image ${k} ${out.labels[j]!.name}: ORT ${out.labels[j]!.probability} vs torch ${p}`);
      });
      const v = fx.view[k]!;
      const e = v.map((x) => Math.exp(x - Math.max(...v)));
      const pView = e.map((x) => x / e.reduce((a, b) => a + b, 0));
      out.view!.forEach((p, i) => assert.ok(Math.abs(p.probability - pView[i]!) < 1e-5, `image ${k} view ${p.name}`));
    }
  } finally {
    await vision.dispose();
  }
});

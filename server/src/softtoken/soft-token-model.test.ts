// The fixture soft-token model through the real stages: manifest → preprocess → ONNX vision
// (onnxruntime-node) → projection → SoftTokenGenerator, on synthetic images.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadManifest, type EmbeddingsOutput, type LoadedManifest } from "../models/manifest.js";
import { preprocess, type GrayImage } from "../pipeline/preprocess.js";
import { VisionModel } from "../pipeline/vision.js";
import { SOFT_TOKEN_TEMPLATE, writeSoftTokenFixtureModel } from "../testing/soft-token-fixture.js";
import { SoftTokenGenerator } from "./generator.js";
import { splitTemplate } from "./prompt-items.js";
import { loadProjection, project, type Projection } from "./projection.js";
import { requireAddon, tempDir } from "./test-support.js";

const dir = tempDir("soft-model");
let loaded: LoadedManifest;
let vision: VisionModel;
let projection: Projection;
let gen: SoftTokenGenerator;

function image(kind: "gradient" | "disc"): GrayImage {
  const width = 64;
  const height = 64;
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      data[y * width + x] = kind === "gradient" ? x / (width - 1) : (x - 32) ** 2 + (y - 32) ** 2 < 400 ? 0.9 : 0.1;
  return { width, height, data };
}

before(async () => {
  requireAddon();
  const modelDir = await writeSoftTokenFixtureModel(dir, "fixture-soft", { tokens: 16, nEmbd: 32, visionDim: 24 });
  loaded = await loadManifest(join(modelDir, "model.json"));
  vision = await VisionModel.load(loaded.visionPath!, loaded.manifest.vision!, "cpu");
  projection = await loadProjection(join(loaded.dir, loaded.manifest.conditioning.projection!), 24, 32);
  gen = new SoftTokenGenerator();
  await gen.load(loaded.llmPath!, { contextSize: loaded.manifest.llm!.contextSize, gpu: false, threads: 1 });
});

after(async () => {
  await gen?.dispose();
  await vision?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function summarize(img: GrayImage): Promise<{ rows: Float32Array; text: string }> {
  const { manifest } = loaded;
  const out = await vision.run(preprocess(img, manifest.vision!.input));
  assert.ok(out.embeddings);
  const rows = project(out.embeddings.data, out.embeddings.tokens, projection);
  const { prefixText, suffixText } = splitTemplate(manifest.prompt.template, manifest.prompt.defaultPrompt);
  const r = await gen.generate({ prefixText, embeddings: rows, nTokens: out.embeddings.tokens, dim: projection.outDim, suffixText, settings: manifest.generation, stop: manifest.prompt.stop });
  assert.ok(r.tokens > 0);
  return { rows, text: r.text };
}

describe("fixture soft-token model", () => {
  it("has a valid soft-tokens manifest", () => {
    assert.equal(loaded.manifest.conditioning.mode, "soft-tokens");
    assert.equal(loaded.manifest.prompt.template, SOFT_TOKEN_TEMPLATE);
    assert.deepEqual((loaded.manifest.vision!.outputs[0] as EmbeddingsOutput).shape, [16, 24]);
    assert.deepEqual(splitTemplate("A <ImageHere> {prompt} B", "p"), { prefixText: "A ", suffixText: " p B" });
    assert.throws(() => splitTemplate("{prompt}", "p"), /exactly one <ImageHere> placeholder \(it has 0\)/);
  });

  it("summarizes synthetic images: different images give different soft tokens and outputs", async () => {
    const a = await summarize(image("gradient"));
    const b = await summarize(image("disc"));
    assert.notDeepEqual(a.rows, b.rows);
    assert.notEqual(a.text, b.text);
    // Deterministic (greedy fixture settings).
    assert.equal((await summarize(image("gradient"))).text, a.text);
  });

  it("projection: rows times the matrix, and a wrong-size file is named", async () => {
    const p: Projection = { inDim: 2, outDim: 3, weights: Float32Array.of(1, 2, 3, 4, 5, 6) };
    assert.deepEqual(Array.from(project(Float32Array.of(1, 0, 0, 1, 2, -1), 3, p)), [1, 2, 3, 4, 5, 6, -2, -1, 0]);
    const bad = join(dir, "bad.bin");
    writeFileSync(bad, new Uint8Array(10));
    await assert.rejects(loadProjection(bad, 24, 32), /bad\.bin has 10 bytes; \[24, 32\] float32 needs 3072/);
  });
});

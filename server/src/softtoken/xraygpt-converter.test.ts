// models/converters/xraygpt/convert.py on a small random stand-in of the XrayGPT checkout: the
// files it writes load in the daemon's stages, and match the stand-in's PyTorch forward (soft
// tokens through onnxruntime, next-token logits through the addon, the tokenizer).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { loadManifest, type LoadedManifest } from "../models/manifest.js";
import { VisionModel } from "../pipeline/vision.js";
import { mulberry32 } from "../util/random.js";
import { SoftTokenGenerator } from "./generator.js";
import { splitTemplate } from "./prompt-items.js";
import { maxAbsDiff, requireAddon, tempDir } from "./test-support.js";
import { XrayEngine } from "../engine/engine.js";
import { writeSyntheticPng } from "../testing/workspace.js";

const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));

const converterDir = fileURLToPath(new URL("../../../models/converters/xraygpt/", import.meta.url));
const python = "/usr/bin/python3";
const dir = tempDir("xraygpt-convert");
const checkout = join(dir, "checkout");

function py(args: string[], input?: string): string {
  const r = spawnSync(python, args, { encoding: "utf8", input, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${args.slice(0, 2).join(" ")} failed (${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  return r.stdout;
}

function convert(out: string, dtype: "f16" | "f32"): ReturnType<typeof spawnSync> {
  return spawnSync(python, [join(converterDir, "convert.py"), "--xraygpt-repo", checkout, "--cfg-path", "eval_configs/xraygpt_eval.yaml", "--out", out, "--dtype", dtype], { encoding: "utf8" });
}

let loaded: LoadedManifest;

let converted: ReturnType<typeof spawnSync>;

before(() => {
  requireAddon();
  py([join(converterDir, "standin", "make_standin.py"), "checkout", checkout]);
  converted = convert(join(dir, "models", "xraygpt-standin"), "f32");
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe("XrayGPT converter (stand-in checkout)", () => {
  it("writes vision.onnx, llm.gguf and a valid soft-tokens manifest", async () => {
    assert.equal(converted.status, 0, String(converted.stderr));
    loaded = await loadManifest(join(dir, "models", "xraygpt-standin", "model.json"));
    assert.equal(loaded.manifest.conditioning.mode, "soft-tokens");
    assert.deepEqual(loaded.manifest.vision!.outputs, [{ kind: "embeddings", name: "embeddings", shape: [4, 64] }]);
    assert.ok(loaded.manifest.prompt.template.includes("###Patient: <Img><ImageHere></Img> {prompt}###Doctor:"));
  });

  it("matches the PyTorch model: soft tokens, tokenizer and next-token logits", async () => {
    loaded ??= await loadManifest(join(dir, "models", "xraygpt-standin", "model.json"));
    const { manifest } = loaded;
    const r = mulberry32(3);
    const image = Float32Array.from({ length: 3 * 32 * 32 }, () => (r() - 0.5) * 4);
    const vision = await VisionModel.load(loaded.visionPath!, manifest.vision!, "cpu");
    const soft = (await vision.run(image)).embeddings!;
    await vision.dispose();

    const addon = requireAddon();
    const model = await addon.loadModel(loaded.llmPath!, { gpuLayers: 0 });
    const { prefixText, suffixText } = splitTemplate(manifest.prompt.template, manifest.prompt.defaultPrompt);
    const before = model.tokenize(prefixText, true);
    const afterIds = model.tokenize(suffixText, false);
    const text = "Mild cardiomegaly, no effusion. 123";
    const ref = JSON.parse(
      py([join(converterDir, "standin", "make_standin.py"), "reference", checkout], JSON.stringify({ image: Array.from(image), before: Array.from(before), after: Array.from(afterIds), text })),
    ) as { soft: number[]; logits: number[]; ids: number[] };

    assert.ok(maxAbsDiff(soft.data, Float32Array.from(ref.soft)) <= 1e-4, `soft tokens differ by ${maxAbsDiff(soft.data, Float32Array.from(ref.soft))}`);
    assert.deepEqual(Array.from(model.tokenize(text, false)), ref.ids);

    const ctx = new addon.Context(model, { nCtx: 256, nThreads: 1 });
    await ctx.decode(before, { pos: 0, logits: "none" });
    await ctx.decode(soft.data, { pos: before.length, logits: "none" });
    await ctx.decode(afterIds, { pos: before.length + soft.tokens });
    const diff = maxAbsDiff(ctx.logits(-1), Float32Array.from(ref.logits));
    ctx.free();
    model.free();
    assert.ok(diff <= 1e-3, `logits differ by ${diff}`);
  });

  it("the converted model summarizes an image through the engine and the CLI", async () => {
    const image = join(dir, "chest.png");
    await writeSyntheticPng(image, 4, 64, 64);
    const engine = new XrayEngine({ modelsDirs: [join(dir, "models")], threads: 1, device: "cpu" });
    try {
      const r = await engine.summarize({ image, model: "xraygpt-standin", generation: { maxTokens: 6, temperature: 0 } });
      assert.equal(r.model.id, "xraygpt-standin");
      assert.ok(r.timings.tokens > 0);
      assert.ok(r.timings.promptTokens > 4, "the prompt holds the 4 soft tokens and the text");
    } finally {
      await engine.dispose();
    }
    const cli = spawnSync(process.execPath, [CLI, "summarize", image, "--json", "--models-dir", join(dir, "models"), "--model", "xraygpt-standin", "--max-tokens", "6"], {
      encoding: "utf8",
      env: { ...process.env, XRAYGPT_THREADS: "1" },
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(JSON.parse(cli.stdout).model.id, "xraygpt-standin");
  });

  it("an f16 conversion runs through the generator", async () => {
    const out = join(dir, "models", "xraygpt-f16");
    assert.equal(convert(out, "f16").status, 0);
    const m = await loadManifest(join(out, "model.json"));
    const gen = new SoftTokenGenerator();
    await gen.load(m.llmPath!, { contextSize: 256, gpu: false, threads: 1 });
    const rows = Float32Array.from({ length: 4 * 64 }, (_, i) => Math.sin(i));
    const res = await gen.generate({ prefixText: "###Patient: <Img>", embeddings: rows, nTokens: 4, dim: 64, suffixText: "</Img> Describe###Doctor:", settings: { ...m.manifest.generation, maxTokens: 8, temperature: 0 } });
    await gen.dispose();
    assert.ok(res.tokens > 0);
  });

  it("refuses a non-empty output folder and a folder that is no checkout, naming them", () => {
    const out = join(dir, "models", "busy");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "notes.txt"), "mine");
    const busy = convert(out, "f32");
    assert.notEqual(busy.status, 0);
    assert.match(String(busy.stderr), /busy exists and is not empty \(nothing is overwritten\)/);
    const r = spawnSync(python, [join(converterDir, "convert.py"), "--xraygpt-repo", dir, "--cfg-path", "x.yaml", "--out", join(dir, "models", "none")], { encoding: "utf8" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /is not an XrayGPT checkout \(no xraygpt\/ package\)/);
  });
});

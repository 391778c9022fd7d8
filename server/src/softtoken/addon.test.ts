import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeTinyLlama, type TinyLlamaFile } from "../testing/tiny-llama.js";
import { loadSoftTokenAddon, type LlamaEmbedAddon, type NativeContext, type NativeModel } from "./addon.js";
import { maxAbsDiff, requireAddon, tempDir, tokenEmbeddingRows } from "./test-support.js";

const dir = tempDir("addon");
let addon: LlamaEmbedAddon;
let file: TinyLlamaFile;
let model: NativeModel;
let ctx: NativeContext;

before(async () => {
  addon = requireAddon();
  file = await writeTinyLlama(join(dir, "tiny.gguf"), { seed: 11, nEmbd: 64, nLayer: 2, nHead: 4, nFf: 128 });
  model = await addon.loadModel(join(dir, "tiny.gguf"), { gpuLayers: 0 });
  ctx = new addon.Context(model, { nCtx: 256, nSeq: 2, nThreads: 1 });
});

after(() => {
  ctx?.free();
  model?.free();
  rmSync(dir, { recursive: true, force: true });
});

function allLogits(n: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => ctx.logits(i));
}

describe("llama-embed addon", () => {
  it("reports the fixture's sizes and special tokens", () => {
    assert.equal(model.nEmbd(), file.nEmbd);
    assert.equal(model.nVocab(), file.nVocab);
    assert.equal(model.bos(), 1);
    assert.equal(model.eos(), 2);
    assert.equal(model.isEog(2), true);
    const ids = model.tokenize("the heart size is normal", true);
    assert.equal(ids[0], 1);
    assert.equal(model.detokenize(ids.subarray(1)).trim(), "the heart size is normal");
    assert.equal(Buffer.from(model.tokenToPiece(ids[2]!)).toString("utf8"), file.tokens[ids[2]!]!.replace("▁", " "));
  });

  it("gives the same logits for token_embd rows as for the token ids (max abs diff <= 1e-5)", async () => {
    const ids = model.tokenize("no pleural effusion or pneumothorax", true);
    ctx.clear();
    await ctx.decode(ids, { pos: 0, seq: 0, logits: "all" });
    const byToken = allLogits(ids.length);
    ctx.clear();
    await ctx.decode(tokenEmbeddingRows(file, ids), { pos: 0, seq: 0, logits: "all" });
    const byRows = allLogits(ids.length);
    for (let i = 0; i < ids.length; i++) assert.ok(maxAbsDiff(byToken[i]!, byRows[i]!) <= 1e-5, `position ${i}: ${maxAbsDiff(byToken[i]!, byRows[i]!)}`);
    // The comparison is not vacuous: other rows give other logits.
    const shifted = tokenEmbeddingRows(file, ids.map((t) => (t + 1) % file.nVocab));
    ctx.clear();
    await ctx.decode(shifted, { pos: 0, seq: 0, logits: "last" });
    assert.ok(maxAbsDiff(ctx.logits(-1), byToken.at(-1)!) > 1e-3);
  });

  it("decodes mixed batches: BOS token, soft tokens, text tokens, in another sequence", async () => {
    const ids = model.tokenize("mild cardiomegaly with right lower lobe opacity", true);
    ctx.clear();
    await ctx.decode(ids, { pos: 0, seq: 1 });
    const expected = ctx.logits(-1);
    ctx.clear();
    const k = 4;
    await ctx.decode(ids.subarray(0, 1), { pos: 0, seq: 1, logits: "none" });
    await ctx.decode(tokenEmbeddingRows(file, ids.subarray(1, 1 + k)), { pos: 1, seq: 1, logits: "none" });
    await ctx.decode(ids.subarray(1 + k), { pos: 1 + k, seq: 1 });
    assert.ok(maxAbsDiff(ctx.logits(-1), expected) <= 1e-5);
    assert.equal(ctx.seqPosMax(1), ids.length - 1);
    assert.equal(ctx.seqPosMax(0), -1);
    // Dropping the text and decoding it again gives the same logits (KV removal works).
    assert.equal(ctx.seqRemove(1, 1 + k, -1), true);
    assert.equal(ctx.seqPosMax(1), k);
    ctx.decodeSync(ids.subarray(1 + k), { pos: 1 + k, seq: 1 });
    assert.ok(maxAbsDiff(ctx.logits(-1), expected) <= 1e-5);
  });

  it("samples reproducibly with a seed", async () => {
    const ids = model.tokenize("impression", true);
    const run = async (seed: number) => {
      ctx.clear();
      await ctx.decode(ids, { pos: 0, seq: 0 });
      const sampler = new addon.Sampler(model, { temperature: 1, topK: 0, topP: 1, repeatPenalty: 1.1, seed });
      const out: number[] = [];
      for (let i = 0; i < 24; i++) {
        const t = sampler.sample(ctx);
        out.push(t);
        await ctx.decode(Int32Array.of(t), { pos: ids.length + i, seq: 0 });
      }
      sampler.free();
      return out;
    };
    const a = await run(42);
    assert.deepEqual(await run(42), a);
    assert.notDeepEqual(await run(43), a);
  });

  it("greedy sampling picks the arg-max of the logits", async () => {
    ctx.clear();
    await ctx.decode(model.tokenize("findings", true), { pos: 0, seq: 0 });
    const logits = ctx.logits(-1);
    const argmax = logits.indexOf(Math.max(...logits));
    const sampler = new addon.Sampler(model, { temperature: 0 });
    assert.equal(sampler.sample(ctx), argmax);
    sampler.free();
  });

  it("rejects bad input with clear errors", async () => {
    assert.throws(() => ctx.decodeSync(new Float32Array(file.nEmbd + 1), { pos: 0 }), /not a multiple of n_embd/);
    assert.throws(() => ctx.decodeSync(Int32Array.of(file.nVocab), { pos: 0 }), /outside the vocabulary/);
    assert.throws(() => ctx.decodeSync(Int32Array.of(1), { pos: 0, seq: 5 }), /seq 5 is outside/);
    await assert.rejects(addon.loadModel(join(dir, "missing.gguf"), {}), /could not load the model .*missing\.gguf/);
  });
});

describe("loadSoftTokenAddon", () => {
  it("says the addon is not built when the .node file is absent", () => {
    const d = tempDir("no-addon");
    const r = loadSoftTokenAddon({ addonPath: join(d, "llama_embed.node"), reasonPath: join(d, "build-failure.txt"), gpu: false });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : "", /not built: .*llama_embed\.node is missing/);
    writeFileSync(join(d, "build-failure.txt"), "g++ not found\n");
    const r2 = loadSoftTokenAddon({ addonPath: join(d, "llama_embed.node"), reasonPath: join(d, "build-failure.txt"), gpu: false });
    assert.equal(!r2.ok && r2.reason, "soft-token addon not built: g++ not found");
    rmSync(d, { recursive: true, force: true });
  });

  it("says the addon does not load when the file is not a shared library", () => {
    const d = tempDir("bad-addon");
    writeFileSync(join(d, "llama_embed.node"), "not an ELF file");
    const r = loadSoftTokenAddon({ addonPath: join(d, "llama_embed.node"), reasonPath: join(d, "x"), gpu: false });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : "", /llama_embed\.node does not load: /);
    assert.equal((!r.ok ? r.reason : "").includes("\n"), false);
    rmSync(d, { recursive: true, force: true });
  });
});

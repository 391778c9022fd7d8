import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SamplingSettings } from "../host/messages.js";
import { writeTinyLlama, type TinyLlamaFile } from "../testing/tiny-llama.js";
import { mulberry32 } from "../util/random.js";
import { SoftTokenGenerator } from "./generator.js";
import { requireAddon, tempDir, tokenEmbeddingRows } from "./test-support.js";

const dir = tempDir("softgen");
const gguf = join(dir, "tiny.gguf");
let file: TinyLlamaFile;
let gen: SoftTokenGenerator;
const greedy: SamplingSettings = { maxTokens: 16, temperature: 0, topP: 1, topK: 0, repeatPenalty: 1, seed: 1 };
const prefixText = "###Patient: <Img>";
const suffixText = "</Img> Describe the findings ###Doctor:";

function randomRows(seed: number, n: number, dim: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n * dim }, () => (r() - 0.5) * 4);
}

before(async () => {
  requireAddon();
  file = await writeTinyLlama(gguf, { seed: 21, nEmbd: 64, nLayer: 2, nHead: 4, nFf: 128 });
  gen = new SoftTokenGenerator();
  await gen.load(gguf, { contextSize: 256, gpu: false, threads: 1, sequences: 2 });
});

after(async () => {
  await gen?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Greedy generation straight through the addon, the prompt given as token ids only. */
async function greedyByTokens(ids: Int32Array, n: number): Promise<number[]> {
  const addon = requireAddon();
  const model = await addon.loadModel(gguf, { gpuLayers: 0 });
  const ctx = new addon.Context(model, { nCtx: 256, nThreads: 1 });
  const sampler = new addon.Sampler(model, { temperature: 0 });
  await ctx.decode(ids, { pos: 0 });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = sampler.sample(ctx);
    if (model.isEog(t)) break;
    out.push(t);
    await ctx.decode(Int32Array.of(t), { pos: ids.length + i });
  }
  sampler.free();
  ctx.free();
  model.free();
  return out;
}

describe("SoftTokenGenerator", () => {
  it("generates from token_embd rows exactly as from the token ids", async () => {
    const addon = requireAddon();
    const model = await addon.loadModel(gguf, { gpuLayers: 0 });
    const pre = model.tokenize(prefixText, true);
    const image = model.tokenize("right lower lobe consolidation", false);
    const post = model.tokenize(suffixText, false);
    model.free();
    const expected = await greedyByTokens(Int32Array.from([...pre, ...image, ...post]), 16);
    const r = await gen.generate({ prefixText, embeddings: tokenEmbeddingRows(file, image), nTokens: image.length, dim: file.nEmbd, suffixText, settings: greedy });
    assert.deepEqual(r.tokenIds, expected);
    assert.equal(expected.length, 16);
    assert.equal(r.promptTokens, pre.length + image.length + post.length);
    assert.ok(r.tokens > 0);
  });

  it("different soft tokens give different outputs", async () => {
    const a = await gen.generate({ prefixText, embeddings: randomRows(1, 8, 64), nTokens: 8, dim: 64, suffixText, settings: greedy });
    const b = await gen.generate({ prefixText, embeddings: randomRows(2, 8, 64), nTokens: 8, dim: 64, suffixText, settings: greedy });
    assert.notEqual(a.text, b.text);
  });

  it("streams tokens, stops at a stop string and can be cancelled", async () => {
    const embeddings = randomRows(3, 8, 64);
    const base = { prefixText, embeddings, nTokens: 8, dim: 64, suffixText };
    const full = await gen.generate({ ...base, settings: greedy });
    assert.ok(full.text.length > 6, full.text);
    const stop = full.text.slice(4, 6);
    const streamed: string[] = [];
    const stopped = await gen.generate({ ...base, settings: greedy, stop: [stop], onToken: (t) => streamed.push(t) });
    assert.equal(stopped.stopReason, "stop");
    assert.equal(stopped.text, full.text.slice(0, full.text.indexOf(stop)));
    assert.equal(streamed.join(""), stopped.text);

    const ac = new AbortController();
    let seen = 0;
    const cancelled = await gen.generate({ ...base, settings: greedy, signal: ac.signal, onToken: () => ++seen === 3 && ac.abort() });
    assert.equal(cancelled.stopReason, "cancelled");
    assert.ok(cancelled.tokens >= 3 && cancelled.tokens < full.tokens, `${cancelled.tokens} tokens`);
    assert.ok(full.text.startsWith(cancelled.text));
  });

  it("queues concurrent generations and gives each the result it would get alone", async () => {
    const one = (seed: number) => gen.generate({ prefixText, embeddings: randomRows(seed, 6, 64), nTokens: 6, dim: 64, suffixText, settings: { ...greedy, temperature: 0.9, seed } });
    const alone = [(await one(7)).text, (await one(8)).text];
    const together = await Promise.all([one(7), one(8)]);
    assert.deepEqual(together.map((r) => r.text), alone);
  });

  it("keeps the image's soft tokens in the KV cache across chat turns", async () => {
    const embeddings = randomRows(4, 8, 64);
    const image = { prefixText, embeddings, nTokens: 8, dim: 64 };
    const chat = gen.startChat(image);
    const t1 = await chat.send({ text: " Describe the image ###Doctor:", settings: { ...greedy, maxTokens: 6 } });
    const t2 = await chat.send({ text: "###Patient: Is there effusion ###Doctor:", settings: { ...greedy, maxTokens: 6 } });
    assert.ok(t2.reusedTokens >= t1.promptTokens, `re-used ${t2.reusedTokens} of turn 1's ${t1.promptTokens} prompt positions`);
    // The same prompt from scratch (another generator, nothing cached) gives the same answer.
    const fresh = new SoftTokenGenerator();
    await fresh.load(gguf, { contextSize: 256, gpu: false, threads: 1 });
    const suffix = ` Describe the image ###Doctor:${t1.text}###Patient: Is there effusion ###Doctor:`;
    const scratch = await fresh.generate({ ...image, suffixText: suffix, settings: { ...greedy, maxTokens: 6 } });
    await fresh.dispose();
    assert.equal(scratch.reusedTokens, 0);
    assert.equal(t2.text, scratch.text);
  });

  it("names the problem when the soft tokens do not fit the model", async () => {
    await assert.rejects(gen.generate({ prefixText, embeddings: new Float32Array(32 * 2), nTokens: 2, dim: 32, suffixText, settings: greedy }), /dimension 32 but the LLM's embedding size is 64/);
    await assert.rejects(gen.generate({ prefixText, embeddings: new Float32Array(64 * 300), nTokens: 300, dim: 64, suffixText, settings: greedy }), /does not fit the context \(256 positions\)/);
  });
});

/**
 * The lexicon constraint of the addon's sampler (native/src/lexicon.cc) on tiny GGUFs: with a word
 * list, the greedy and the sampled candidates write only its words (as metrics/answer-checks.ts
 * counts words) where without it they do not; a list that allows nothing useful still ends the
 * generation (end of generation when no token fits, no hang, no crash).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_WORDS, tinyVocab, writeTinyLlama } from "../testing/tiny-llama.js";
import { requireAddon, tempDir, tinyBatchedGenerator } from "../softtoken/test-support.js";
import { unknownWords } from "../metrics/index.js";
import { BatchedTextGenerator, type BatchedCandidate } from "./batched-generator.js";
import { candidateSettings } from "./candidates.js";
import type { SamplingSettings } from "./messages.js";

const dir = tempDir("lexicon");
const PROMPT = "Patient: the lungs are clear ### Doctor:";
const BASE: SamplingSettings = { maxTokens: 32, temperature: 0, topP: 0.9, topK: 1, repeatPenalty: 1, seed: 3 };
const consensus = (n: number): SamplingSettings[] => candidateSettings({ ...BASE, candidates: n, candidateTemperature: 1.2 });
/** The fixture's whole-word pieces that are words (runs of letters), lower-cased. */
const WORDS = [...new Set(DEFAULT_WORDS.filter((w) => /^[a-z]+$/i.test(w)).map((w) => w.toLowerCase()))];

let gen: BatchedTextGenerator;

/**
 * Words of a candidate outside the lexicon; a word cut off by maxTokens (the text ends inside it)
 * counts only when it is not even the start of a lexicon word.
 */
function outside(c: BatchedCandidate, words: ReadonlySet<string>): string[] {
  const bad = unknownWords(c.text, words);
  const last = /[a-z]+$/i.exec(c.text)?.[0].toLowerCase();
  if (c.stopReason === "maxTokens" && last && bad.at(-1) === last && [...words].some((w) => w.startsWith(last))) bad.pop();
  return bad;
}

before(async () => {
  gen = await tinyBatchedGenerator(dir);
});
after(async () => {
  await gen?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("lexicon constraint (addon sampler)", () => {
  it("keeps the greedy and the sampled candidates to the lexicon; without it they leave it", async () => {
    const free = await gen.generate(gen.tokenize(PROMPT), { candidates: consensus(8), maxTokens: 32 });
    // The lexicon also lacks the first fixture word the unconstrained greedy candidate writes.
    const written = (free.candidates[0]!.text.toLowerCase().match(/[a-z]+/g) ?? []).find((w) => WORDS.includes(w));
    const lexicon = new Set(WORDS.filter((w) => w !== written));
    const freeOutside = free.candidates.map((c) => outside(c, lexicon));
    assert.ok(freeOutside[0]!.length > 0, `the unconstrained greedy candidate leaves the lexicon: ${JSON.stringify(free.candidates[0]!.text)}`);
    assert.ok(freeOutside.slice(1).some((w) => w.length > 0), "an unconstrained sampled candidate leaves the lexicon");

    const kept = await gen.generate(gen.tokenize(PROMPT), { candidates: consensus(8), maxTokens: 32, lexicon });
    kept.candidates.forEach((c, i) => assert.deepEqual(outside(c, lexicon), [], `candidate ${i}: ${JSON.stringify(c.text)}`));
    const wordsWritten = kept.candidates.flatMap((c) => c.text.match(/[a-z]+/gi) ?? []);
    assert.ok(wordsWritten.length >= 8, `the constrained candidates still write words: ${JSON.stringify(kept.candidates.map((c) => c.text))}`);
    // Still deterministic, and the same for the same set passed again (one native lexicon per set).
    const again = await gen.generate(gen.tokenize(PROMPT), { candidates: consensus(8), maxTokens: 32, lexicon });
    assert.deepEqual(again.candidates, kept.candidates);
  });

  it("keeps each word's casing to lower case, Capitalized or all capitals (never \"ordERED\")", async () => {
    const hot = candidateSettings({ ...BASE, candidates: 16, candidateTemperature: 2, topK: 0, topP: 1 });
    const r = await gen.generate(gen.tokenize(PROMPT), { candidates: hot, maxTokens: 48, lexicon: new Set(WORDS) });
    const words = r.candidates.flatMap((c) => c.text.match(/[a-z]+/gi) ?? []);
    assert.ok(words.length >= 40 && words.some((w) => /[A-Z]/.test(w)), `enough words, some with capitals: ${JSON.stringify(words)}`);
    for (const w of words) assert.match(w, /^(?:[a-z]+|[A-Z][a-z]*|[A-Z]+)$/, JSON.stringify(r.candidates.map((c) => c.text)));
  });

  it("with an empty lexicon writes no letter and ends every candidate", async () => {
    const r = await gen.generate(gen.tokenize(PROMPT), { candidates: consensus(8), maxTokens: 64, lexicon: new Set() });
    for (const c of r.candidates) {
      assert.ok(["eos", "maxTokens"].includes(c.stopReason), c.stopReason);
      assert.doesNotMatch(c.text, /[a-z]/i);
    }
  });

  it("makes the last token (maxTokens) end its word when told where the text is cut", async () => {
    const addon = requireAddon();
    const model = await addon.loadModel(join(dir, "m.gguf"), { gpuLayers: 0 });
    const ctx = new addon.Context(model, { nCtx: 64 * 16, nSeq: 16, nThreads: 1 });
    try {
      const lexicon = new addon.Lexicon(model, WORDS);
      const words = new Set(WORDS);
      const prompt = model.tokenize(PROMPT, true, false);
      const run = async (extra: { lexiconMaxTokens?: number }) => {
        const r = await ctx.generate(prompt, { candidates: Array.from({ length: 16 }, (_, k) => ({ temperature: 1.5, topK: 0, topP: 1, seed: 40 + k, lexicon, ...extra })), maxTokens: 1 });
        return r.candidates.map((c) => Buffer.from(c.text).toString("utf8"));
      };
      // Without it, a one-token text can be the start of a word ("▁l" of "lungs") ...
      const cut = await run({});
      assert.ok(cut.some((t) => unknownWords(t, words).length > 0), JSON.stringify(cut));
      for (const t of cut) for (const w of unknownWords(t, words)) assert.ok(WORDS.some((x) => x.startsWith(w)), `${w} starts a lexicon word`);
      // ... with it, every word is whole.
      const whole = await run({ lexiconMaxTokens: 1 });
      for (const t of whole) assert.deepEqual(unknownWords(t, words), [], JSON.stringify(t));
    } finally {
      ctx.free();
      model.free();
    }
  });

  it("ends the generation when no token can go on (a word the vocabulary cannot finish)", async () => {
    // A vocabulary that spells words only whole: single letters and bytes are control tokens.
    const { tokens, types } = tinyVocab(DEFAULT_WORDS);
    const control = types.map((t, i) => (t === 6 || /^▁?[a-z]$/i.test(tokens[i]!) ? 3 : t));
    const path = join(dir, "whole-words.gguf");
    await writeTinyLlama(path, { seed: 5, metadata: { "tokenizer.ggml.token_type": { type: "i32[]", value: control } } });
    const addon = requireAddon();
    const model = await addon.loadModel(path, { gpuLayers: 0 });
    const ctx = new addon.Context(model, { nCtx: 128, nSeq: 1, nThreads: 1 });
    try {
      // "the" is only the start of "therapy", and no token writes "rapy": only the end is left.
      const lexicon = new addon.Lexicon(model, ["therapy", "###", "x-ray"]);
      assert.equal(lexicon.size(), 1, "entries that are not runs of letters are skipped");
      const prompt = model.tokenize(PROMPT, true, false);
      ctx.decodeSync(prompt, { pos: 0 });
      const sampler = new addon.Sampler(model, { temperature: 0, lexicon });
      sampler.accept(tokens.indexOf("▁the"));
      const t = sampler.sample(ctx);
      assert.ok(model.isEog(t), `token ${t} ends the generation`);
      sampler.free();
      // A lexicon made for another model reads this model's pieces: the same end.
      const other = await addon.loadModel(join(dir, "m.gguf"), { gpuLayers: 0 });
      const foreign = new addon.Sampler(model, { temperature: 0, lexicon: new addon.Lexicon(other, ["therapy"]) });
      other.free();
      foreign.accept(tokens.indexOf("▁the"));
      assert.ok(model.isEog(foreign.sample(ctx)));
      foreign.free();
      // Whole generations with it end too, by the end token or maxTokens, and write at most "the".
      ctx.free();
      const g = await BatchedTextGenerator.load(path, { gpu: false, contextSize: 128, threads: 1 });
      try {
        const r = await g.generate(g.tokenize(PROMPT), { candidates: consensus(4), maxTokens: 40, lexicon: new Set(["therapy"]) });
        for (const c of r.candidates) {
          assert.ok(["eos", "maxTokens"].includes(c.stopReason), c.stopReason);
          for (const w of c.text.match(/[a-z]+/gi) ?? []) assert.equal(w.toLowerCase(), "the", JSON.stringify(c.text));
          if (/[a-z]/i.test(c.text)) assert.equal(c.stopReason, "eos", JSON.stringify(c.text));
        }
      } finally {
        await g.dispose();
      }
    } finally {
      model.free();
    }
  });
});

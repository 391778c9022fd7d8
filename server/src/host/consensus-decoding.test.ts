/**
 * Consensus decoding in the real model process on a tiny GGUF, through both text engines: the
 * project's addon (one batched generation) and node-llama-cpp (the fallback when the addon is not
 * built; candidates one after another, exactly the candidates single generations with the same
 * seeds give). Either way candidate 0 streams as the provisional draft, the candidate count
 * progresses, and the chosen answer replaces the draft.
 */
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyLlama } from "../testing/tiny-llama.js";
import { ModelProcess, type GenerationHooks } from "./model-process.js";
import type { SamplingSettings, TextEngine } from "./messages.js";
import { chooseCandidate } from "./consensus.js";

let dir: string;
const PROMPT = "Patient: the lungs are clear ### Doctor:";
const BASE: SamplingSettings = { maxTokens: 20, temperature: 0, topP: 0.9, topK: 1, repeatPenalty: 1, seed: 7 };
const CONSENSUS: SamplingSettings = { ...BASE, candidates: 5, candidateTemperature: 1.2 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "xraygpt-consensus-"));
  await writeTinyLlama(join(dir, "m.gguf"), { seed: 11 });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Without a character cut off at the end (the addon drops it from a final text, node-llama-cpp keeps it). */
const trimCut = (t: string) => t.replace(/\uFFFD+$/, "");

/** What a client shows, applying provisional / replace as the protocol says. */
function recorder(): GenerationHooks & { order: string[]; provisional: string; shown: string; progress: number[] } {
  const r = {
    order: [] as string[],
    provisional: "",
    shown: "",
    progress: [] as number[],
    onToken(text: string, _index: number, flags?: { provisional?: boolean; replace?: boolean }) {
      r.order.push(flags?.replace ? "replace" : flags?.provisional ? "provisional" : "token");
      if (flags?.provisional) r.provisional += text;
      r.shown = flags?.replace ? text : r.shown + text;
    },
    onCandidates(done: number, total: number) {
      assert.equal(total, 5);
      r.progress.push(done);
    },
  };
  return r;
}

for (const textEngine of ["addon", "node-llama-cpp"] as TextEngine[]) {
  describe(`consensus decoding (${textEngine})`, () => {
    let runner: ModelProcess;
    before(() => {
      runner = new ModelProcess({ ggufPath: join(dir, "m.gguf"), contextSize: 256, device: "cpu", threads: 1, label: "tiny", textEngine });
    });
    after(() => runner.stop());

    test("loads on the engine asked for", async () => {
      const info = await runner.ensureLoaded();
      assert.match(info.detail, textEngine === "addon" ? /project addon/ : /node-llama-cpp/);
    });

    test("streams the greedy draft, then the chosen answer replaces it; deterministic", async () => {
      const greedy = (await runner.generate(PROMPT, BASE, ["###"])).text;
      const rec = recorder();
      const done = await runner.generate(PROMPT, CONSENSUS, ["###"], rec);
      assert.equal(done.candidates, 5);
      assert.ok(done.sampledTokens > done.tokens, `${done.sampledTokens} sampled over ${done.tokens} answered`);
      assert.ok(rec.order.length >= 2 && rec.order.at(-1) === "replace", rec.order.join(","));
      assert.ok(rec.order.slice(0, -1).every((o) => o === "provisional"), rec.order.join(","));
      assert.equal(trimCut(rec.provisional), trimCut(greedy));
      assert.equal(rec.shown, done.text);
      assert.deepEqual(rec.progress, [...rec.progress].sort((a, b) => a - b));
      assert.equal(rec.progress.at(-1), 5);
      // The same request gives the same answer.
      assert.equal((await runner.generate(PROMPT, CONSENSUS, ["###"])).text, done.text);
    });

    test("cancelling consensus decoding stops it and reports cancelled", async () => {
      const ac = new AbortController();
      ac.abort();
      const done = await runner.generate(PROMPT, { ...BASE, maxTokens: 200, candidates: 32 }, ["###"], { signal: ac.signal });
      assert.equal(done.stopReason, "cancelled");
      assert.ok(done.sampledTokens < 32 * 200);
    });

    test("a plain generation streams as ordinary tokens", async () => {
      const rec = recorder();
      const done = await runner.generate(PROMPT, BASE, ["###"], rec);
      assert.ok(rec.order.every((o) => o === "token"));
      assert.equal(trimCut(rec.shown), trimCut(done.text));
    });
  });
}

test("with the addon unusable, a model process falls back to node-llama-cpp by itself and says why; consensus still answers", async () => {
  const before = process.env.XRAYGPT_LLAMA_EMBED_ADDON;
  process.env.XRAYGPT_LLAMA_EMBED_ADDON = join(dir, "no-such-addon.node"); // the model process inherits it
  const auto = new ModelProcess({ ggufPath: join(dir, "m.gguf"), contextSize: 256, device: "cpu", threads: 1, label: "tiny" });
  const nlc = new ModelProcess({ ggufPath: join(dir, "m.gguf"), contextSize: 256, device: "cpu", threads: 1, label: "tiny", textEngine: "node-llama-cpp" });
  try {
    const info = await auto.ensureLoaded();
    assert.match(info.detail, /node-llama-cpp .*; the addon is not used: soft-token addon not built: .*no-such-addon\.node is missing/);
    const done = await auto.generate(PROMPT, CONSENSUS, ["###"]);
    assert.equal(done.candidates, 5);
    assert.equal(done.text, (await nlc.generate(PROMPT, CONSENSUS, ["###"])).text, "the node-llama-cpp engine's answer");
  } finally {
    auto.stop();
    nlc.stop();
    if (before === undefined) delete process.env.XRAYGPT_LLAMA_EMBED_ADDON;
    else process.env.XRAYGPT_LLAMA_EMBED_ADDON = before;
  }
});

test("node-llama-cpp: the answer is the consensus of exactly the candidates single generations give", async () => {
  const runner = new ModelProcess({ ggufPath: join(dir, "m.gguf"), contextSize: 256, device: "cpu", threads: 1, label: "tiny", textEngine: "node-llama-cpp" });
  try {
    const singles: string[] = [(await runner.generate(PROMPT, BASE, ["###"])).text];
    for (let k = 1; k < 5; k++) singles.push((await runner.generate(PROMPT, { ...BASE, temperature: 1.2, topK: 0, topP: 1, seed: BASE.seed + k }, ["###"])).text);
    assert.ok(new Set(singles).size >= 3, `sampled candidates differ: ${JSON.stringify(singles)}`);
    assert.equal((await runner.generate(PROMPT, CONSENSUS, ["###"])).text, singles[chooseCandidate(singles)]);
  } finally {
    runner.stop();
  }
});

test("addon: a summary whose chosen candidate ends without an impression is continued after \"Impression:\"; an answer is not", async () => {
  const runner = new ModelProcess({ ggufPath: join(dir, "m.gguf"), contextSize: 256, device: "cpu", threads: 1, label: "tiny", textEngine: "addon" });
  try {
    const plain = await runner.generate(PROMPT, CONSENSUS, ["###"]);
    assert.doesNotMatch(plain.text, /impression:/i, "the random model writes no impression of its own");
    // No findings given: every check ties, so the same candidate is chosen, then continued.
    const rec = recorder();
    const summary = await runner.generate(PROMPT, CONSENSUS, ["###"], { ...rec, expected: { present: [], absent: [], complete: true } });
    const head = `${plain.text.trimEnd()} Impression:`;
    assert.ok(summary.text.startsWith(head) && summary.text.length > head.length, JSON.stringify(summary.text));
    assert.equal(rec.shown, summary.text, "the replace carries the continued text");
    assert.ok(summary.sampledTokens > plain.sampledTokens, "the continuation's candidates are counted");
    const answer = await runner.generate(PROMPT, CONSENSUS, ["###"], { expected: { present: [], absent: [], complete: false } });
    assert.equal(answer.text, plain.text);
    // Given positives: the impression is written again, starting with their names.
    const named = await runner.generate(PROMPT, CONSENSUS, ["###"], { expected: { present: ["Pleural Effusion", "Pneumonia"], absent: [], complete: true } });
    assert.ok(named.text.startsWith(`${plain.text.trimEnd()} Impression: Pleural effusion and pneumonia`), JSON.stringify(named.text));
  } finally {
    runner.stop();
  }
});

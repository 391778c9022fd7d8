/**
 * BatchedTextGenerator on a tiny GGUF through the addon: N candidates in one batched generation,
 * deterministic, independent per seed, stop strings and ends per sequence, cancellation mid-batch,
 * and prefix reuse for the single-sequence path (chat turns).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir, tinyBatchedGenerator } from "../softtoken/test-support.js";
import type { BatchedTextGenerator } from "./batched-generator.js";
import { candidateSettings } from "./candidates.js";
import type { SamplingSettings } from "./messages.js";

const dir = tempDir("batched");
let gen: BatchedTextGenerator;
const PROMPT = "Patient: the lungs are clear ### Doctor:";
const BASE: SamplingSettings = { maxTokens: 24, temperature: 0, topP: 0.9, topK: 1, repeatPenalty: 1, seed: 7 };

before(async () => {
  gen = await tinyBatchedGenerator(dir);
});
after(async () => {
  await gen?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Without a character cut off at the end (what the generator drops from a final text). */
const trimCut = (t: string) => t.replace(/\uFFFD+$/, "");
const consensus = (n: number, temperature = 1.2): SamplingSettings[] => candidateSettings({ ...BASE, candidates: n, candidateTemperature: temperature });

describe("batched generation through the addon", () => {
  it("is deterministic for fixed seeds, and its candidates differ by seed", async () => {
    const a = await gen.generate(gen.tokenize(PROMPT), { candidates: consensus(8), maxTokens: 24 });
    const b = await gen.generate(gen.tokenize(PROMPT), { candidates: consensus(8), maxTokens: 24 });
    assert.deepEqual(b.candidates, a.candidates);
    const texts = a.candidates.map((c) => c.text);
    assert.ok(new Set(texts).size >= 4, `sampled candidates differ: ${JSON.stringify(texts)}`);
    // Another seed gives other samples.
    const c = await gen.generate(gen.tokenize(PROMPT), { candidates: candidateSettings({ ...BASE, seed: 1000, candidates: 8, candidateTemperature: 1.2 }), maxTokens: 24 });
    assert.notDeepEqual(c.candidates.slice(1), a.candidates.slice(1));
  });

  it("gives candidate 0 the same text as a single greedy generation, and streams it", async () => {
    const single = await gen.generate(gen.tokenize(PROMPT), { candidates: [BASE], maxTokens: 24 });
    let streamed = "";
    const dones: number[] = [];
    const batch = await gen.generate(gen.tokenize(PROMPT), {
      candidates: consensus(6),
      maxTokens: 24,
      onText0: (t) => (streamed += t),
      onDone: (d, total) => (assert.equal(total, 6), dones.push(d)),
    });
    assert.equal(batch.candidates[0]!.text, single.candidates[0]!.text);
    assert.equal(trimCut(streamed), batch.candidates[0]!.text);
    assert.ok(streamed.length > 0);
    assert.deepEqual(dones, [...dones].sort((x, y) => x - y));
    assert.equal(dones.at(-1), 6);
  });

  it("a sampled candidate is the same in a batch of 2 and of 8 (sequences do not affect each other)", async () => {
    const two = await gen.generate(gen.tokenize(PROMPT), { candidates: consensus(2), maxTokens: 24 });
    const eight = await gen.generate(gen.tokenize(PROMPT), { candidates: consensus(8), maxTokens: 24 });
    assert.deepEqual(eight.candidates[1], two.candidates[1]);
  });

  it("ends each sequence on its own: stop strings per candidate, maxTokens", async () => {
    const free = await gen.generate(gen.tokenize(PROMPT), { candidates: consensus(8), maxTokens: 24 });
    // A stop string taken from inside one candidate's text cuts that one there.
    // (The random fixture writes byte tokens too: take a whole word.)
    const k = free.candidates.findIndex((c, i) => i > 0 && /[a-z]{4,}/.test(c.text));
    assert.ok(k > 0, "a candidate with a word");
    const stop = /[a-z]{4,}/.exec(free.candidates[k]!.text)![0].slice(0, 4);
    const stopped = await gen.generate(gen.tokenize(PROMPT), { candidates: consensus(8), maxTokens: 24, stop: [stop] });
    free.candidates.forEach((c, i) => {
      const s = stopped.candidates[i]!;
      const at = c.text.indexOf(stop);
      if (at >= 0) {
        assert.equal(s.stopReason, "stop", `candidate ${i}`);
        assert.equal(s.text, trimCut(c.text.slice(0, at)));
      } else {
        assert.deepEqual(s, c, `candidate ${i} has no stop string`);
      }
    });
    assert.equal(stopped.candidates[k]!.stopReason, "stop");
    const short = await gen.generate(gen.tokenize(PROMPT), { candidates: consensus(4), maxTokens: 3, ignoreEos: true });
    for (const c of short.candidates) assert.deepEqual([c.tokens, c.stopReason], [3, "maxTokens"]);
  });

  it("with a quorum, cuts the stragglers but candidate 0 once that many have finished; the finished ones are unchanged", async () => {
    const n = 12;
    // A common letter as stop string: the candidates end after different numbers of tokens.
    const opts = { candidates: consensus(n), maxTokens: 24, stop: ["e"] };
    const free = await gen.generate(gen.tokenize(PROMPT), opts);
    const lengths = free.candidates.map((c) => c.tokens);
    assert.ok(new Set(lengths).size >= 3, `candidates end at different lengths: ${lengths}`);
    const quorum = n / 2;
    const cut = await gen.generate(gen.tokenize(PROMPT), { ...opts, quorum });
    assert.deepEqual(cut.candidates[0], free.candidates[0], "candidate 0 is never cut");
    const kept = cut.candidates.filter((c) => c.stopReason !== "cut");
    assert.ok(kept.length >= quorum, `${kept.length} finished`);
    const cutOnes = cut.candidates.flatMap((c, i) => (c.stopReason === "cut" ? [i] : []));
    assert.ok(cutOnes.length > 0, "stragglers were cut");
    // The quorum was reached at one step: every straggler stopped there, with fewer tokens than it
    // would have had, and the text it had then.
    const at = cut.candidates[cutOnes[0]!]!.tokens;
    for (const i of cutOnes) {
      const c = cut.candidates[i]!;
      assert.equal(c.tokens, at, `candidate ${i}`);
      assert.ok(c.tokens <= free.candidates[i]!.tokens, `candidate ${i}: ${c.tokens} ≤ ${free.candidates[i]!.tokens}`);
      assert.ok(free.candidates[i]!.text.startsWith(c.text), `candidate ${i}'s text is the start of its full text`);
    }
    // Those that finished by then are as without the quorum, and no later one did.
    cut.candidates.forEach((c, i) => {
      if (c.stopReason !== "cut") assert.deepEqual(c, free.candidates[i], `candidate ${i}`);
    });
    free.candidates.forEach((c, i) => {
      if (c.tokens < at) assert.notEqual(cut.candidates[i]!.stopReason, "cut", `candidate ${i} had ended before step ${at}`);
    });
    await assert.rejects(gen.generate(gen.tokenize(PROMPT), { ...opts, quorum: n + 1 }), /quorum must be from 1 to the number of candidates/);
  });

  it("with an evidence group, each group is cut once its own quorum has finished", async () => {
    const n = 12;
    const from = 6;
    const opts = { candidates: consensus(n), maxTokens: 24, stop: ["e"] };
    const free = await gen.generate(gen.tokenize(PROMPT), opts);
    const grouped = await gen.generate(gen.tokenize(PROMPT), { ...opts, quorum: 3, evidenceFrom: from, evidenceQuorum: 3 });
    const kept = (r: typeof free, a: number, b: number) => r.candidates.slice(a, b).filter((c) => c.stopReason !== "cut");
    assert.ok(kept(grouped, 0, from).length >= 3 && kept(grouped, from, n).length >= 3, "each group has its quorum");
    grouped.candidates.forEach((c, i) => {
      if (c.stopReason !== "cut") assert.deepEqual(c, free.candidates[i], `candidate ${i} as without the quorums`);
    });
    // Each group's stragglers stopped at the step its own quorum was reached: a group's finished
    // candidates are the shortest of that group (ties aside), whatever the other group did.
    for (const [a, b] of [[1, from], [from, n]] as const) {
      const cutAt = grouped.candidates.slice(a, b).filter((c) => c.stopReason === "cut").map((c) => c.tokens);
      for (let i = a; i < b; i++) if (free.candidates[i]!.tokens < Math.min(...cutAt)) assert.notEqual(grouped.candidates[i]!.stopReason, "cut", `candidate ${i}`);
    }
    // All of the first group but candidate 0 cut at once (quorum 1) leaves the evidence group running.
    const first = await gen.generate(gen.tokenize(PROMPT), { ...opts, quorum: 1, evidenceFrom: from });
    assert.ok(first.candidates.slice(from).every((c) => c.stopReason !== "cut"), "the evidence finishes (its quorum defaults to all)");
    await assert.rejects(gen.generate(gen.tokenize(PROMPT), { ...opts, quorum: from + 1, evidenceFrom: from }), /quorum must be at most/);
    await assert.rejects(gen.generate(gen.tokenize(PROMPT), { ...opts, evidenceFrom: from, evidenceQuorum: n }), /evidenceQuorum must be from 0/);
  });

  it("cancels mid-batch: every unfinished candidate ends cancelled, and the next request runs", async () => {
    const ac = new AbortController();
    let seen = 0;
    const r = await gen.generate(gen.tokenize(PROMPT), {
      candidates: consensus(16),
      maxTokens: 200,
      ignoreEos: true,
      signal: ac.signal,
      onText0: () => ++seen === 2 && ac.abort(),
    });
    assert.ok(r.candidates.every((c) => c.stopReason === "cancelled"));
    assert.ok(r.candidates[0]!.tokens >= 2 && r.candidates[0]!.tokens < 200, `${r.candidates[0]!.tokens} tokens`);
    const next = await gen.generate(gen.tokenize(PROMPT), { candidates: [BASE], maxTokens: 5 });
    assert.notEqual(next.candidates[0]!.stopReason, "cancelled");
  });

  it("re-uses the prompt prefix held in sequence 0 (a chat turn decodes only the new text)", async () => {
    const first = await gen.generate(gen.tokenize(PROMPT), { candidates: [BASE], maxTokens: 8 });
    const turn2 = `${PROMPT}${first.candidates[0]!.text} ### Patient: is the heart normal ### Doctor:`;
    const reused = await gen.generate(gen.tokenize(turn2), { candidates: [BASE], maxTokens: 8 });
    assert.ok(reused.reusedTokens >= gen.tokenize(PROMPT).length - 1, `${reused.reusedTokens} reused`);
    // The same text evaluated from scratch (another prompt first clears the reuse) gives the same answer.
    await gen.generate(gen.tokenize("heart"), { candidates: [BASE], maxTokens: 2 });
    const fresh = await gen.generate(gen.tokenize(turn2), { candidates: [BASE], maxTokens: 8 });
    assert.ok(fresh.reusedTokens <= 1);
    assert.equal(reused.candidates[0]!.text, fresh.candidates[0]!.text);
  });
});

/**
 * The candidates' quorum and the choice among them: a straggler cut once the quorum finished is
 * never the answer, whatever its text.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { candidateQuorum, chooseSample, type Sample } from "./candidates.js";
import { chooseCandidate } from "./consensus.js";
import type { SamplingSettings, ToHost } from "./messages.js";

const BASE: SamplingSettings = { maxTokens: 20, temperature: 0, topP: 1, topK: 1, repeatPenalty: 1, seed: 0, candidates: 8 };

test("the quorum is the fraction of the candidates, rounded up, at least 1 and at most all", () => {
  assert.equal(candidateQuorum(BASE), 8, "unset: every candidate finishes");
  assert.equal(candidateQuorum({ ...BASE, candidateQuorum: 0.75 }), 6);
  assert.equal(candidateQuorum({ ...BASE, candidateQuorum: 0.7 }), 6);
  assert.equal(candidateQuorum({ ...BASE, candidateQuorum: 0.01 }), 1);
  assert.equal(candidateQuorum({ ...BASE, candidateQuorum: 0.75 }, 16), 12, "of another count (the impression's candidates)");
  assert.equal(candidateQuorum({ ...BASE, candidates: 1, candidateQuorum: 0.5 }), 1);
});

test("a cut candidate is never chosen, even the one the others agree with most", () => {
  const texts = ["The lungs are clear.", "Heart size is normal. The lungs are clear.", "The lungs are clear. No effusion.", "Heart size is normal. The lungs are clear. No effusion."];
  const full = texts.map((text, i): Sample => ({ text, tokens: 10 + i, stopReason: "eos" }));
  const m: Extract<ToHost, { type: "generate" }> = { type: "generate", id: 1, prompt: "p", settings: { ...BASE, candidates: texts.length }, stop: [] };
  const best = chooseCandidate(texts);
  assert.equal(chooseSample(m, full), full[best]);
  const cut = full.map((s, i) => (i === best ? { ...s, stopReason: "cut" as const } : s));
  const chosen = chooseSample(m, cut);
  assert.notEqual(chosen.stopReason, "cut");
  const rest = full.filter((_, i) => i !== best);
  assert.equal(chosen.text, rest[chooseCandidate(rest.map((s) => s.text))]!.text, "the consensus of those that finished");
});

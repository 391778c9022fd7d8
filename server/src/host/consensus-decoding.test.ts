/**
 * Consensus decoding in the real model process (node-llama-cpp on a tiny GGUF): the answer is the
 * consensus of exactly the candidates that single generations with the same seeds produce, and
 * it streams once chosen.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyLlama } from "../testing/tiny-llama.js";
import { ModelProcess } from "./model-process.js";
import type { SamplingSettings } from "./messages.js";
import { chooseCandidate } from "./consensus.js";

let dir: string;
let runner: ModelProcess;
const PROMPT = "Patient: the lungs are clear ### Doctor:";
const BASE: SamplingSettings = { maxTokens: 20, temperature: 0, topP: 0.9, topK: 1, repeatPenalty: 1, seed: 7 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "xraygpt-consensus-"));
  await writeTinyLlama(join(dir, "m.gguf"), { seed: 11 });
  runner = new ModelProcess({ ggufPath: join(dir, "m.gguf"), contextSize: 256, device: "cpu", threads: 1, label: "tiny" });
});
after(async () => {
  runner.stop();
  await rm(dir, { recursive: true, force: true });
});

test("the answer is the consensus of the candidates single generations give, streamed once chosen", async () => {
  const singles: string[] = [(await runner.generate(PROMPT, BASE, ["###"])).text];
  for (let k = 1; k < 5; k++) singles.push((await runner.generate(PROMPT, { ...BASE, temperature: 1.2, topK: 0, topP: 1, seed: BASE.seed + k }, ["###"])).text);
  assert.ok(new Set(singles).size >= 3, `sampled candidates differ: ${JSON.stringify(singles)}`);
  let streamed = "";
  const done = await runner.generate(PROMPT, { ...BASE, candidates: 5, candidateTemperature: 1.2 }, ["###"], { onToken: (t) => (streamed += t) });
  assert.equal(done.candidates, 5);
  assert.equal(done.text, singles[chooseCandidate(singles)]);
  assert.equal(streamed, done.text);
  assert.ok(done.sampledTokens > done.tokens, `${done.sampledTokens} sampled over ${done.tokens} answered`);
  // Deterministic: the same request gives the same answer.
  assert.equal((await runner.generate(PROMPT, { ...BASE, candidates: 5, candidateTemperature: 1.2 }, ["###"])).text, done.text);
});

test("cancelling consensus decoding stops it and reports cancelled", async () => {
  const ac = new AbortController();
  ac.abort();
  const done = await runner.generate(PROMPT, { ...BASE, maxTokens: 200, candidates: 32 }, ["###"], { signal: ac.signal });
  assert.equal(done.stopReason, "cancelled");
  assert.ok(done.candidates < 32);
});

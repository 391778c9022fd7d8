import { test } from "node:test";
import assert from "node:assert/strict";
import { emptyLabels } from "../metrics/index.js";
import type { Study } from "./language-eval.js";
import { fnv1a32 } from "./nih-eval.js";
import { DECODINGS, ships, trainSample } from "./temperature-eval.js";

const study = (uid: string): Study => ({ uid, labels: emptyLabels(), reference: `report ${uid}`, findings: "" });

test("trainSample takes the first n studies by fnv1a32 of the uid, whatever the file order", () => {
  const studies = Array.from({ length: 40 }, (_, i) => study(`CXR${i}`));
  const a = trainSample(studies, 10);
  const b = trainSample([...studies].reverse(), 10);
  assert.deepEqual(a.map((s) => s.uid), b.map((s) => s.uid));
  assert.equal(a.length, 10);
  const hashes = studies.map((s) => fnv1a32(s.uid)).sort((x, y) => x - y);
  assert.deepEqual(a.map((s) => fnv1a32(s.uid)), hashes.slice(0, 10));
  assert.equal(trainSample(studies, 100).length, 40);
});

test("the shipped decoding is the one whose every setting the manifest has (unset: no evidence, temperature 1)", () => {
  const base = { maxTokens: 8, temperature: 0, topP: 1, topK: 1, repeatPenalty: 1, seed: 0, candidates: 64 };
  const shipped = (g: object) => DECODINGS.filter((d) => ships({ ...base, ...g }, d)).map((d) => d.name);
  const at06 = DECODINGS.find((d) => d.name.startsWith("40 at 0.6, scored against 24"))!.name;
  assert.deepEqual(shipped({ candidateTemperature: 0.6, evidenceCandidates: 24, evidenceTemperature: 1 }), [at06]);
  assert.deepEqual(shipped({ candidateTemperature: 0.6, evidenceCandidates: 24 }), [at06], "evidence at 1.0 by default");
  assert.deepEqual(shipped({ candidates: 88, candidateTemperature: 0.6, evidenceCandidates: 48 }), [DECODINGS.find((d) => d.name.startsWith("40 at 0.6, scored against 48"))!.name], "the candidate count counts");
  assert.deepEqual(shipped({}), [DECODINGS[0]!.name], "64 at 1.0 by default");
  assert.deepEqual(shipped({ candidateTemperature: 0.7 }), []);
  assert.equal(new Set(DECODINGS.map((d) => d.name)).size, DECODINGS.length);
});

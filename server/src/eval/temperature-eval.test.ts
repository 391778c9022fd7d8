import { test } from "node:test";
import assert from "node:assert/strict";
import { emptyLabels } from "../metrics/index.js";
import type { Study } from "./language-eval.js";
import { fnv1a32 } from "./nih-eval.js";
import { trainSample } from "./temperature-eval.js";

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

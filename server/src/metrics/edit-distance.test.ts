import { test } from "node:test";
import assert from "node:assert/strict";
import { editDistance, levenshtein } from "./edit-distance.js";

test("word-level Levenshtein distance and its normalized form", () => {
  assert.deepEqual(editDistance("the heart is normal", "the heart is enlarged"), { distance: 1, normalized: 0.25, wordsA: 4, wordsB: 4 });
  assert.deepEqual(editDistance("a c", "a b c"), { distance: 1, normalized: 1 / 3, wordsA: 2, wordsB: 3 });
  assert.deepEqual(editDistance("a b c", ""), { distance: 3, normalized: 1, wordsA: 3, wordsB: 0 });
  assert.deepEqual(editDistance("", "  "), { distance: 0, normalized: 0, wordsA: 0, wordsB: 0 });
  assert.equal(levenshtein([..."kitten"], [..."sitting"]), 3);
  assert.equal(editDistance("No effusion.", "no effusion").distance, 2, "words compared exactly by default");
  assert.equal(editDistance("No effusion.", "no effusion", (t) => t.toLowerCase().match(/[a-z0-9]+/g) ?? []).distance, 0);
});

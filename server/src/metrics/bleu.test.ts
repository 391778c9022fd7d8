import { test } from "node:test";
import assert from "node:assert/strict";
import { bleuFromText, brevityPenalty, closestRefLength, corpusBleu, modifiedPrecision } from "./bleu.js";
import { fsum } from "./fsum.js";
import { readGolden } from "./golden.js";

interface Golden {
  nltk: string;
  corpora: Record<string, { referenceTokens: string[][][]; hypothesisTokens: string[][]; bleu: Record<string, number>; weights: Record<string, number[]> }>;
}

test("fsum is exactly rounded like Python's math.fsum", () => {
  assert.equal(fsum([1e100, 1, -1e100]), 1);
  assert.equal(fsum(new Array(10).fill(0.1)), 1);
  assert.equal(fsum([]), 0);
});

test("hand-checked pieces: modified precision, closest reference length, brevity penalty", () => {
  assert.deepEqual(modifiedPrecision([["the", "cat"]], ["the", "the", "the"], 1), [1, 3]);
  assert.deepEqual(modifiedPrecision([["a"]], ["a"], 2), [0, 1], "denominator is at least 1");
  assert.equal(closestRefLength([[..."abcd"], [..."abcdef"]], 5), 4, "ties go to the shorter reference");
  assert.equal(brevityPenalty(4, 5), 1);
  assert.equal(brevityPenalty(5, 0), 0);
  assert.ok(Math.abs(brevityPenalty(3, 2) - Math.exp(1 - 3 / 2)) < 1e-15);
  assert.equal(corpusBleu([[["a", "b", "c", "d"]]], [["a", "b", "c", "d"]]), 1);
  assert.equal(corpusBleu([[["x"]]], [["y"]]), 0);
});

test("corpus BLEU matches Debian python3-nltk corpus_bleu (golden/bleu.json)", () => {
  const golden = readGolden<Golden>("bleu.json");
  let checked = 0;
  for (const [name, corpus] of Object.entries(golden.corpora)) {
    for (const [key, expected] of Object.entries(corpus.bleu)) {
      const got = corpusBleu(corpus.referenceTokens, corpus.hypothesisTokens, corpus.weights[key]);
      const tol = 1e-12 * Math.abs(expected);
      assert.ok(Math.abs(got - expected) <= tol, `${name} ${key}: ${got} vs nltk ${expected}`);
      checked++;
    }
  }
  assert.equal(checked, 35);
});

test("bleuFromText tokenizes like ROUGE and scores identical texts 1", () => {
  const s = bleuFromText(["The heart is normal. Lungs are clear."], ["the heart is normal lungs are clear"]);
  assert.deepEqual(s, { bleu1: 1, bleu2: 1, bleu3: 1, bleu4: 1 });
  assert.throws(() => corpusBleu([], [["a"]]), /1 hypotheses but 0 reference sets/);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { tokenizeRouge } from "./tokenize.js";
import { lcsLength, rougeL, rougeN, rougeScores } from "./rouge.js";
import { readGolden } from "./golden.js";

// rouge-score is not packaged in Debian, so ROUGE values here are worked out by hand.

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test("tokenization: lowercase, non-alphanumerics to spaces, optional stemming of tokens > 3 chars", () => {
  assert.deepEqual(tokenizeRouge("Heart-size: NORMAL!  (2 views)"), ["heart", "size", "normal", "2", "views"]);
  assert.deepEqual(tokenizeRouge("Résumé"), ["r", "sum"]);
  assert.deepEqual(tokenizeRouge("The lungs are clearing", { stem: true }), ["the", "lung", "are", "clear"]);
  assert.deepEqual(tokenizeRouge("its ties", { stem: true }), ["its", "tie"], "only tokens longer than 3 characters are stemmed");
  assert.deepEqual(tokenizeRouge("  ...  "), []);
});

test("tokenization matches the rouge-score tokenizer re-implemented in the golden script", () => {
  const golden = readGolden<{ corpora: Record<string, { hypotheses: string[]; hypothesisTokens: string[][]; stemmedHypothesisTokens: string[][] }> }>("bleu.json");
  for (const corpus of Object.values(golden.corpora)) {
    corpus.hypotheses.forEach((h, i) => {
      assert.deepEqual(tokenizeRouge(h), corpus.hypothesisTokens[i]);
      assert.deepEqual(tokenizeRouge(h, { stem: true }), corpus.stemmedHypothesisTokens[i]);
    });
  }
});

test("ROUGE-1/2/L on a hand-checked pair", () => {
  const pred = "the cat sat on the mat";
  const ref = "The cat is on the mat.";
  const r1 = rougeN(pred, ref, 1);
  close(r1.precision, 5 / 6);
  close(r1.recall, 5 / 6);
  close(r1.f, 5 / 6);
  const r2 = rougeN(pred, ref, 2);
  close(r2.f, 3 / 5);
  const rl = rougeL(pred, ref);
  close(rl.f, 5 / 6);
});

test("precision and recall differ with unequal lengths; stemming changes matches", () => {
  const plain = rougeN("The lungs are clearing", "lung clear", 1);
  assert.equal(plain.f, 0);
  const stemmed = rougeN("The lungs are clearing", "lung clear", 1, { stem: true });
  close(stemmed.precision, 2 / 4);
  close(stemmed.recall, 1);
  close(stemmed.f, 2 / 3);
});

test("ROUGE-N clips repeated n-grams by the reference count", () => {
  const r = rougeN("the the the", "the cat", 1);
  close(r.precision, 1 / 3);
  close(r.recall, 1 / 2);
});

test("ROUGE-L is LCS-based on the whole text", () => {
  assert.equal(lcsLength(["a", "b", "c", "d"], ["b", "a", "d", "c"]), 2);
  close(rougeL("a b c d", "b a d c").f, 0.5);
  close(rougeL("a. b. c.", "a b c").f, 1, );
  assert.deepEqual(rougeL("", "x"), { precision: 0, recall: 0, f: 0 });
  assert.deepEqual(rougeN("", "x", 2), { precision: 0, recall: 0, f: 0 });
});

test("rougeScores gives per-pair scores and their mean", () => {
  const s = rougeScores(["no effusion", "pneumothorax"], ["no effusion", "cardiomegaly"]);
  assert.equal(s.perSentence.length, 2);
  assert.equal(s.perSentence[0]!.rouge2.f, 1);
  assert.equal(s.perSentence[1]!.rouge1.f, 0);
  close(s.mean.rouge1.f, 0.5);
  close(s.mean.rougeL.recall, 0.5);
  assert.throws(() => rougeScores(["a"], []), /1 predictions but 0 references/);
  assert.throws(() => rougeN("a", "a", 0), /positive integer/);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { answerAgrees } from "./chat-eval.js";

test("answerAgrees reads the asked observation as the findings line gives it", () => {
  assert.equal(answerAgrees("Yes. Small right pleural effusion.", "Pleural Effusion", true), true);
  assert.equal(answerAgrees("No, there is no pleural effusion.", "Pleural Effusion", true), false);
  assert.equal(answerAgrees("No, there is no pleural effusion.", "Pleural Effusion", false), true);
  assert.equal(answerAgrees("Pneumonia was not assessed.", "Pneumonia", true), false);
  assert.equal(answerAgrees("Pneumonia was not assessed.", "Pneumonia", false), false);
  assert.equal(answerAgrees("The heart size is normal.", "Cardiomegaly", false), true);
  assert.equal(answerAgrees("Possible right lower lobe pneumonia.", "Pneumonia", true), true);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { checkTexts } from "./text-checks.js";
import { addresses, placedFindings, unknownWords, vocabulary } from "../metrics/index.js";
import { selfContradictions } from "../metrics/index.js";

test("unknownWords lists the words outside the training vocabulary", () => {
  const vocab = vocabulary(["The lungs are clear.", "Interval improvement of the effusion."]);
  assert.deepEqual(unknownWords("Interval improveloped of the lungs.", vocab), ["improveloped"]);
  assert.deepEqual(unknownWords("THE LUNGS ARE CLEAR", vocab), []);
  // A word of mixed case is no word, even when its letters spell one.
  const words = vocabulary(["The scarring and ordered lungs. Heart trying. PICC line."]);
  assert.deepEqual(unknownWords("The Scarring and/ordERED lungs. Heart tryinG. PICC Line.", words), ["ordERED", "tryinG"]);
  // IU X-ray's de-identification placeholder is in the reports but is no word of a report.
  const iu = vocabulary(["The XXXX examination consists of frontal and lateral radiographs at 8:XXXXPM."]);
  assert.ok(iu.has("examination") && !iu.has("xxxx") && !iu.has("xxxxpm"));
  assert.deepEqual(unknownWords("The XXXX examination.", iu), ["xxxx"]);
});

test("selfContradictions finds an observation stated present and absent in different sentences", () => {
  assert.deepEqual(selfContradictions("There is a right pleural effusion. No pleural effusion."), ["Pleural Effusion"]);
  assert.deepEqual(selfContradictions("There is a right pleural effusion. No pneumothorax."), []);
  assert.deepEqual(selfContradictions("The heart is enlarged. The heart size is normal."), ["Cardiomegaly"]);
});

test("addresses: the answer must be about the observation asked", () => {
  assert.equal(addresses("No, there is no pleural effusion.", "Support Devices"), false);
  assert.equal(addresses("No, there is no pleural effusion.", "Pleural Effusion"), true);
  assert.equal(addresses("Support devices were not assessed.", "Support Devices"), true);
});

test("checkTexts counts texts, not words", () => {
  const c = checkTexts(["the lungs blorp blorp.", "the lungs.", "Small effusion. No effusion."], vocabulary(["the lungs small effusion no"]));
  assert.equal(c.texts, 3);
  assert.equal(c.withUnknownWords, 1);
  assert.deepEqual(c.unknownWords, [["blorp", 2]]);
  assert.equal(c.selfContradicting, 1);
  assert.equal(c.placing, 0);
});

test("a sentence placing something at a side, lobe or zone is counted (the line places nothing); one that only denies is not", () => {
  assert.equal(placedFindings("Findings: There is pneumonia. Impression: Right upper lobe pneumonia."), 1);
  assert.equal(placedFindings("There is a small left pleural effusion. Bibasilar atelectasis."), 2);
  assert.equal(placedFindings("Possible left lower lobe pneumonia."), 1, "possible is stated too");
  assert.equal(placedFindings("No right pneumothorax. The lungs are clear."), 0);
  assert.equal(placedFindings("Frontal and lateral views of the chest were obtained. There is pneumonia."), 0);
  assert.equal(placedFindings("Heart size is at the upper limits of normal. Impression: Pneumonia."), 0);
  assert.equal(placedFindings("Impression: Pneumonia. Right upper lobe are stable."), 1, "a place with no finding named is made up too");
});

test("checkTexts counts the texts that place a finding, with the first as the example", () => {
  const c = checkTexts(["The lungs are clear.", "Left lower lobe pneumonia.", "Right pleural effusion. Left pneumothorax."], vocabulary([""]));
  assert.equal(c.placing, 2);
  assert.equal(c.placingExample, "Left lower lobe pneumonia.");
});

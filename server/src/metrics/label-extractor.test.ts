import { test } from "node:test";
import assert from "node:assert/strict";
import { extractLabels, notAssessed, splitSentences } from "./label-extractor.js";
import type { LabelValue, Observation } from "./chexpert.js";

/** The non-null labels of a text. */
function mentioned(text: string): Partial<Record<Observation, LabelValue>> {
  return Object.fromEntries(Object.entries(extractLabels(text)).filter(([, v]) => v !== null));
}

const cases: Array<[string, Partial<Record<Observation, LabelValue>>]> = [
  [
    "The heart size is normal. The lungs are clear. No pleural effusion or pneumothorax.",
    { "No Finding": 1, Cardiomegaly: 0, "Lung Opacity": 0, Consolidation: 0, Pneumonia: 0, Pneumothorax: 0, "Pleural Effusion": 0 },
  ],
  ["Mild cardiomegaly. Small left pleural effusion with adjacent atelectasis.", { Cardiomegaly: 1, Atelectasis: 1, "Pleural Effusion": 1 }],
  ["Cannot exclude pneumonia.", { Pneumonia: -1 }],
  ["Pleural effusion cannot be excluded.", { "Pleural Effusion": -1 }],
  ["Heart size is at the upper limits of normal.", { Cardiomegaly: -1 }],
  ["The heart is not enlarged.", { "No Finding": 1, Cardiomegaly: 0 }],
  ["Enlarged heart and widened mediastinum.", { Cardiomegaly: 1, "Enlarged Cardiomediastinum": 1 }],
  ["There is no pneumothorax and the heart is enlarged.", { Cardiomegaly: 1, Pneumothorax: 0 }],
  ["Left basilar opacity may represent atelectasis or pneumonia.", { "Lung Opacity": 1, Atelectasis: -1, Pneumonia: -1 }],
  ["Atelectasis versus pneumonia at the left base.", { Atelectasis: -1, Pneumonia: -1 }],
  ["No change in the small left effusion.", { "Pleural Effusion": 1 }],
  ["Heart size and mediastinal contours are within normal limits.", { "No Finding": 1, Cardiomegaly: 0, "Enlarged Cardiomediastinum": 0 }],
  ["Normal heart size and mediastinal contours.", { "No Finding": 1, Cardiomegaly: 0, "Enlarged Cardiomediastinum": 0 }],
  ["Lungs are otherwise clear.", { "No Finding": 1 }],
  ["Blunting of the right costophrenic angle.", { "Pleural Effusion": -1 }],
  ["Costophrenic angles are sharp.", { "No Finding": 1, "Pleural Effusion": 0 }],
  ["Pacemaker in place. No fracture.", { "No Finding": 1, "Support Devices": 1, Fracture: 0 }],
  ["Pneumothorax is not seen but effusion is present.", { Pneumothorax: 0, "Pleural Effusion": 1 }],
  ["Cardiomegaly is present and effusion is not seen.", { Cardiomegaly: 1, "Pleural Effusion": 0 }],
  ["Pneumothorax has resolved.", { "No Finding": 1, Pneumothorax: 0 }],
  ["Negative for pneumothorax. Free of focal airspace disease. Lungs are clear of consolidation.", {
    "No Finding": 1,
    Pneumothorax: 0,
    "Lung Opacity": 0,
    Consolidation: 0,
    Pneumonia: 0,
  }],
  ["Suggestive of early edema. Possible small nodule.", { Edema: -1, "Lung Lesion": -1 }],
  ["There is no focal airspace opacity to suggest pneumonia.", { "No Finding": 1, "Lung Opacity": 0, Pneumonia: 0 }],
  ["Without evidence of effusion. No displaced rib fractures.", { "No Finding": 1, "Pleural Effusion": 0, Fracture: 0 }],
  ["Small pericardial effusion.", { "No Finding": 1 }],
  ["Right pleural thickening. Old healed left rib fracture.", { "Pleural Other": 1, Fracture: 1 }],
  ["Sternotomy wires and a right PICC line are noted.", { "No Finding": 1, "Support Devices": 1 }],
  ["Small right apical pneumothorax.", { Pneumothorax: 1 }],
  ["Pulmonary vascular congestion.", { Edema: 1 }],
  ["The 1.5 cm nodule is unchanged; no effusion.", { "Lung Lesion": 1, "Pleural Effusion": 0 }],
  // The chat answer for an observation the vision stage did not look at states nothing about it.
  ["Pneumonia was not assessed.", { "No Finding": 1 }],
  ["Pleural effusion was not assessed. Small right pneumothorax.", { Pneumothorax: 1 }],
];

test("hand-labeled sentences (negation, uncertainty, normal phrasings, devices)", () => {
  for (const [text, expected] of cases) assert.deepEqual(mentioned(text), expected, text);
});

test("mentions are judged per sentence: a negation does not reach the next sentence", () => {
  assert.deepEqual(mentioned("No pneumothorax. Effusion."), { Pneumothorax: 0, "Pleural Effusion": 1 });
  assert.deepEqual(mentioned("Possible pneumonia. Effusion."), { Pneumonia: -1, "Pleural Effusion": 1 });
});

test("a report label is positive if any mention is, then uncertain, then negative", () => {
  assert.equal(extractLabels("No effusion on the left. Small right effusion.")["Pleural Effusion"], 1);
  assert.equal(extractLabels("No effusion. Possible effusion.")["Pleural Effusion"], -1);
  assert.equal(extractLabels("Lungs are clear. Right lower lobe opacity.")["Lung Opacity"], 1);
});

test("No Finding: positive unless something other than a support device is positive or uncertain", () => {
  assert.equal(extractLabels("Normal chest.")["No Finding"], 1);
  assert.equal(extractLabels("Endotracheal tube in place.")["No Finding"], 1);
  assert.equal(extractLabels("Possible effusion.")["No Finding"], null);
  assert.equal(extractLabels("")["Cardiomegaly"], null);
});

test("sentence splitting keeps decimals and splits on ; and newlines", () => {
  assert.deepEqual(splitSentences("A 1.5 cm nodule. No effusion; heart normal\nLungs clear"), ["a 1.5 cm nodule", "no effusion", "heart normal", "lungs clear"]);
});

test("notAssessed names the observations a text says were not assessed", () => {
  assert.deepEqual(notAssessed("Pneumonia was not assessed."), ["Pneumonia"]);
  assert.deepEqual(notAssessed("Pleural effusion was not assessed. There is a pneumothorax."), ["Pleural Effusion"]);
  assert.deepEqual(notAssessed("There is pneumonia. No pleural effusion."), []);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { expectedFindings, findingsLine } from "./condition.js";

const labels = [
  { name: "Pneumonia", probability: 0.8 },
  { name: "Lung Opacity", probability: 0.1 },
  { name: "Pleural Effusion", probability: 0.45 },
];

test("the findings line lists every assessed label with its status, in order", () => {
  const view = [{ name: "Frontal", probability: 0.7 }, { name: "Lateral", probability: 0.3 }];
  assert.equal(findingsLine(labels, view, { mode: "findings-text", threshold: 0.5 }), "View: frontal. Assessed: Pneumonia positive, Lung Opacity negative, Pleural Effusion negative.");
  assert.equal(findingsLine(labels, undefined, { mode: "findings-text", threshold: 0.5, uncertain: [0.4, 0.5] }), "Assessed: Pneumonia positive, Lung Opacity negative, Pleural Effusion uncertain.");
  assert.equal(findingsLine([], undefined, { mode: "findings-text" }), "Assessed: none.");
});

test("expected findings follow the line: positive → present, negative → absent, uncertain → uncertain", () => {
  assert.deepEqual(expectedFindings(labels, { mode: "findings-text", threshold: 0.5 }), { present: ["Pneumonia"], absent: ["Lung Opacity", "Pleural Effusion"], uncertain: [] });
  assert.deepEqual(expectedFindings(labels, { mode: "findings-text", threshold: 0.5, uncertain: [0.4, 0.5] }), { present: ["Pneumonia"], absent: ["Lung Opacity"], uncertain: ["Pleural Effusion"] });
  assert.deepEqual(expectedFindings(labels, { mode: "findings-text", threshold: 0.05 }), { present: ["Pneumonia", "Lung Opacity", "Pleural Effusion"], absent: [], uncertain: [] });
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { labelF1 } from "./label-f1.js";
import { emptyLabels, type Labels, type LabelValue, type Observation } from "./chexpert.js";

const L = (values: Partial<Record<Observation, LabelValue>>): Labels => ({ ...emptyLabels(), ...values });

test("micro and macro F1 on hand-checked labels", () => {
  const refs = [L({ Cardiomegaly: 1, Edema: 1 }), L({ Cardiomegaly: 1 }), L({ "No Finding": 1 })];
  const preds = [L({ Cardiomegaly: 1 }), L({ Cardiomegaly: 0, Edema: 1 }), L({ "No Finding": 1 })];
  const r = labelF1(preds, refs);
  // Cardiomegaly tp1 fn1; Edema tp0 fp1 fn1; No Finding tp1.
  assert.deepEqual(r.perLabel["Cardiomegaly"], { tp: 1, fp: 0, fn: 1, support: 2, precision: 1, recall: 0.5, f1: 2 / 3 });
  assert.deepEqual(r.perLabel["Edema"], { tp: 0, fp: 1, fn: 1, support: 1, precision: 0, recall: 0, f1: 0 });
  assert.equal(r.perLabel["No Finding"]!.f1, 1);
  assert.equal(r.perLabel["Fracture"]!.f1, null, "undefined when no positives anywhere");
  // micro: tp 2, fp 1, fn 2 → P 2/3, R 1/2, F1 4/7.
  assert.equal(r.micro.precision, 2 / 3);
  assert.equal(r.micro.recall, 0.5);
  assert.equal(r.micro.f1, 4 / 7);
  assert.equal(r.macro.f1, (2 / 3 + 0 + 1) / 3);
  assert.equal(r.n, 3);
});

test("uncertain counts as positive by default, as negative when asked", () => {
  const refs = [L({ Pneumonia: 1 })];
  const preds = [L({ Pneumonia: -1 })];
  assert.equal(labelF1(preds, refs).micro.f1, 1);
  assert.equal(labelF1(preds, refs, { uncertain: "negative" }).micro.f1, 0);
  assert.throws(() => labelF1(preds, []), /1 predictions but 0 references/);
});

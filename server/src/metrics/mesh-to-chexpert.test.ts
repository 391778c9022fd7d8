import { test } from "node:test";
import assert from "node:assert/strict";
import { meshToChexpert } from "./mesh-to-chexpert.js";
import { OBSERVATIONS } from "./chexpert.js";

const nonNull = (mesh: string) => Object.fromEntries(Object.entries(meshToChexpert(mesh)).filter(([, v]) => v !== null));

test("IU X-ray MeSH strings map to CheXpert labels", () => {
  assert.deepEqual(nonNull("normal"), { "No Finding": 1 });
  assert.deepEqual(nonNull("Cardiomegaly/borderline;Opacity/lung/base/left"), { Cardiomegaly: -1, "Lung Opacity": 1 });
  assert.deepEqual(nonNull("Cardiomegaly/mild;Pulmonary Atelectasis/base/left;Pleural Effusion/bilateral/small"), {
    Cardiomegaly: 1,
    Atelectasis: 1,
    "Pleural Effusion": 1,
  });
  assert.deepEqual(nonNull("Calcified Granuloma/lung/upper lobe/right;Aorta/tortuous"), { "No Finding": 1 });
  assert.deepEqual(nonNull("Costophrenic Angle/bilateral/blunted"), { "Pleural Effusion": -1 });
  assert.deepEqual(nonNull("Hydropneumothorax"), { Pneumothorax: 1, "Pleural Effusion": 1 });
  assert.deepEqual(nonNull("Cicatrix/lung/base/left;Thickening/pleura/right"), { "Lung Opacity": 1, "Pleural Other": 1 });
  assert.deepEqual(nonNull("Mediastinum/prominent"), { "Enlarged Cardiomediastinum": 1 });
  assert.deepEqual(nonNull("Mediastinum/lymph nodes/enlarged"), { "No Finding": 1 });
  assert.deepEqual(nonNull("Cardiac Shadow/enlarged/mild;Pulmonary Congestion"), { Cardiomegaly: 1, Edema: 1 });
  assert.deepEqual(nonNull("Catheters, Indwelling;Surgical Instruments"), { "No Finding": 1, "Support Devices": 1 });
  assert.deepEqual(nonNull("Fractures, Bone/ribs/left/healed;Nodule/lung/lingula"), { Fracture: 1, "Lung Lesion": 1 });
  assert.deepEqual(nonNull("Airspace Disease/lung/base/bilateral;Infiltrate;Density/lung/apex/right"), { "Lung Opacity": 1 });
  assert.deepEqual(nonNull("Markings/lung/interstitial;Markings/bronchovascular"), { "Lung Opacity": 1 });
});

test("No Indexing and empty strings are unknown, and every observation is present", () => {
  assert.deepEqual(nonNull("No Indexing"), {});
  assert.deepEqual(nonNull(""), {});
  assert.deepEqual(Object.keys(meshToChexpert("normal")), [...OBSERVATIONS]);
});

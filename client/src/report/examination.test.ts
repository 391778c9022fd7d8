import { test } from "node:test";
import assert from "node:assert/strict";
import type { ImageInfo } from "@xraygpt/protocol";
import { examinationText } from "./examination.js";

const dicom: ImageInfo = { format: "dicom", width: 2048, height: 2048, bitsStored: 12, frames: 1 };

test("the Examination line is what the DICOM header's standard codes say", () => {
  assert.equal(examinationText({ ...dicom, modality: "DX", bodyPart: "CHEST", view: "PA" }), "DX chest, PA view.");
  assert.equal(examinationText({ ...dicom, modality: "CR", bodyPart: "CHEST", view: "LL" }), "CR chest, left lateral view.");
  assert.equal(examinationText({ ...dicom, modality: "CR", bodyPart: "SHOULDER", laterality: "R", view: "AP" }), "CR right shoulder, AP view.");
  assert.equal(examinationText({ ...dicom, modality: "DX" }), "DX radiograph.");
  assert.equal(examinationText({ ...dicom, bodyPart: "TSPINE" }), "Thoracic spine.");
});

test("no line without a modality or body part, nor for PNG / JPEG", () => {
  assert.equal(examinationText(dicom), undefined);
  assert.equal(examinationText({ ...dicom, view: "PA" }), undefined);
  assert.equal(examinationText({ format: "png", width: 10, height: 10, bitsStored: 8, frames: 1 }), undefined);
});

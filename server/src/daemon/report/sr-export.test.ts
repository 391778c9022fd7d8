import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIXTURE_PHI, syntheticGrey, writeDicom } from "../../testing/dicom-fixtures.js";
import { BASIC_TEXT_SR, writeBasicTextSr } from "./sr-export.js";

const require = createRequire(import.meta.url);
type Naturalized = Record<string, unknown>;
const dcmjs = require("dcmjs") as { data: { DicomMessage: { readFile(b: ArrayBuffer): { dict: unknown } }; DicomMetaDictionary: { naturalizeDataset(d: unknown): Naturalized } } };

function read(path: string): Naturalized {
  const b = readFileSync(path);
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer).dict);
}

const sections = [
  { name: "Examination", text: "Chest radiograph, PA." },
  { name: "Indication", text: "" },
  { name: "Findings", text: "Patchy opacity in the right lower lobe." },
  { name: "Impression", text: "Right lower lobe pneumonia." },
];

function fixture(): { dir: string; image: string } {
  const dir = mkdtempSync(join(tmpdir(), "xraygpt-sr-"));
  const image = join(dir, "chest.dcm");
  writeDicom(image, { width: 8, height: 8, pixels: syntheticGrey(8, 8, 4095), bitsStored: 12 });
  return { dir, image };
}

test("the SR is a Basic Text SR in the source's study, referencing its series and instance, patient module empty", (t) => {
  const { dir, image } = fixture();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const src = read(image);
  const out = join(dir, "chest.sr.dcm");
  const r = writeBasicTextSr({ image, out, sections });
  const sr = read(out);
  assert.equal(sr.SOPClassUID, BASIC_TEXT_SR);
  assert.equal(sr.Modality, "SR");
  assert.equal(sr.StudyInstanceUID, src.StudyInstanceUID);
  assert.notEqual(sr.SeriesInstanceUID, src.SeriesInstanceUID, "a series of its own");
  assert.equal(r.referencedSopInstanceUid, src.SOPInstanceUID);
  const evidence = (sr.CurrentRequestedProcedureEvidenceSequence as Naturalized[])[0]!;
  const series = (evidence.ReferencedSeriesSequence as Naturalized[])[0]!;
  assert.equal(series.SeriesInstanceUID, src.SeriesInstanceUID);
  assert.equal((series.ReferencedSOPSequence as Naturalized[])[0]!.ReferencedSOPInstanceUID, src.SOPInstanceUID);
  const items = sr.ContentSequence as Naturalized[];
  const texts = items.filter((i) => i.ValueType === "TEXT").map((i) => [(i.ConceptNameCodeSequence as Naturalized[])[0]!.CodeMeaning, i.TextValue]);
  assert.deepEqual(texts, [["Procedure Description", "Chest radiograph, PA."], ["Finding", "Patchy opacity in the right lower lobe."], ["Impression", "Right lower lobe pneumonia."]], "empty sections left out, order kept");
  assert.ok(items.some((i) => i.ValueType === "IMAGE"), "an IMAGE item references the source");
  const bytes = readFileSync(out).toString("latin1");
  for (const v of Object.values(FIXTURE_PHI).filter((x) => x.length > 3)) assert.ok(!bytes.includes(v), `no ${v} in the SR by default`);
  assert.ok(!r.patientModuleCopied);
  assert.throws(() => writeBasicTextSr({ image, out, sections }), /already exists/, "an existing SR is never replaced");

  const dsr = spawnSync("dsrdump", ["+Pl", "+Pc", out], { encoding: "utf8" });
  if (dsr.error) t.diagnostic("dcmtk's dsrdump is not installed; skipped its check");
  else {
    assert.equal(dsr.status, 0, dsr.stderr);
    assert.match(dsr.stdout, /Basic Text SR/);
    assert.match(dsr.stdout, /Patchy opacity in the right lower lobe\./);
  }
});

test("the patient module is copied only when asked, and a PNG source gets no SR", (t) => {
  const { dir, image } = fixture();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, "with-patient.sr.dcm");
  assert.ok(writeBasicTextSr({ image, out, sections, includePatientModule: true }).patientModuleCopied);
  const sr = read(out);
  assert.equal(sr.PatientID, FIXTURE_PHI.PatientID);
  assert.equal(sr.PatientBirthDate, FIXTURE_PHI.PatientBirthDate);
  const png = join(dir, "chest.png");
  writeFileSync(png, Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"));
  assert.throws(() => writeBasicTextSr({ image: png, out: join(dir, "x.sr.dcm"), sections }), /chest\.png is not a DICOM file/);
  assert.throws(() => writeBasicTextSr({ image, out: join(dir, "y.sr.dcm"), sections: [{ name: "Findings", text: " " }] }), /no text/);
});

/**
 * A reviewed report as a DICOM Basic Text SR (SOP class 1.2.840.10008.5.1.4.1.1.88.11), written
 * with dcmjs: in the source image's study (its Study Instance UID), a new series, one instance;
 * the evidence it was made from (Current Requested Procedure Evidence Sequence and an IMAGE
 * content item) names the source's Study/Series/SOP Instance UIDs; the report's sections are TEXT
 * items under a "Diagnostic Imaging Report" container. The patient module and the study's other
 * identifying attributes are empty (type 2) unless `includePatientModule` copies them from the
 * source. A source that is not DICOM (PNG, JPEG ...) gets no SR.
 */
import { openSync, readSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { createRequire } from "node:module";
import type { ExportSrParams, ExportSrResult } from "@xraygpt/protocol";
import { EngineError } from "../../engine/errors.js";

const require = createRequire(import.meta.url);

interface Dcmjs {
  data: {
    DicomDict: new (meta: unknown) => { dict: unknown; write(): ArrayBuffer };
    DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { dict: unknown } };
    DicomMetaDictionary: { denaturalizeDataset(ds: Record<string, unknown>): unknown; naturalizeDataset(dict: unknown): Record<string, unknown>; uid(): string };
  };
}

export const BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11";
const EXPLICIT_LE = "1.2.840.10008.1.2.1";

type Code = [value: string, scheme: string, meaning: string];
const code = ([CodeValue, CodingSchemeDesignator, CodeMeaning]: Code) => [{ CodeValue, CodingSchemeDesignator, CodeMeaning }];

/** The concept name of each report section's TEXT item (DICOM CID 7001-style codes; Comparison has none there). */
const SECTION_CODES: Record<string, Code> = {
  examination: ["121065", "DCM", "Procedure Description"],
  indication: ["121109", "DCM", "Indications for Procedure"],
  comparison: ["COMPARISON", "99XRAYGPT", "Comparison"],
  findings: ["121071", "DCM", "Finding"],
  impression: ["121073", "DCM", "Impression"],
};
const REPORT_TITLE: Code = ["18748-4", "LN", "Diagnostic Imaging Report"];

/** Patient-module (and visit/study identifying) attributes: empty by default, copied on request. */
export const PATIENT_MODULE = ["PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex"] as const;
const STUDY_IDENTIFYING = ["StudyDate", "StudyTime", "AccessionNumber", "StudyID", "ReferringPhysicianName"] as const;

function isDicomFile(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(132);
    return readSync(fd, b, 0, 132, 0) === 132 && b.toString("latin1", 128, 132) === "DICM";
  } finally {
    closeSync(fd);
  }
}

function dicomDateTime(d: Date): { date: string; time: string } {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return { date: `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`, time: `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}` };
}

/** Writes the SR; `image` and `out` are already path-checked. Refuses to replace `out`. */
export function writeBasicTextSr(p: ExportSrParams & { image: string; out: string }, now = new Date()): ExportSrResult {
  const sections = p.sections.filter((s) => s.text.trim());
  if (sections.length === 0) throw new EngineError("InvalidParams", "exportSr: the report has no text to export");
  const unknown = sections.find((s) => !SECTION_CODES[s.name.toLowerCase()]);
  if (unknown) throw new EngineError("InvalidParams", `exportSr: unknown section "${unknown.name}" (Examination, Indication, Comparison, Findings, Impression)`);
  let dicom: boolean;
  try {
    dicom = isDicomFile(p.image);
  } catch (e) {
    throw new EngineError("BadImage", `${basename(p.image)}: cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`, p.image);
  }
  if (!dicom) throw new EngineError("InvalidParams", `${basename(p.image)} is not a DICOM file: a DICOM SR needs the source's Study/Series/SOP Instance UIDs (export the report as Markdown or text instead)`);
  const { DicomDict, DicomMessage, DicomMetaDictionary } = (require("dcmjs") as Dcmjs).data;
  const bytes = readFileSync(p.image);
  let src: Record<string, unknown>;
  try {
    src = DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, { untilTag: "7FE00010" }).dict);
  } catch {
    throw new EngineError("BadImage", `${basename(p.image)}: the DICOM data set cannot be parsed`, p.image);
  }
  const uid = (k: string) => (typeof src[k] === "string" && src[k] ? (src[k] as string) : undefined);
  const study = uid("StudyInstanceUID");
  const series = uid("SeriesInstanceUID");
  const sop = uid("SOPInstanceUID");
  const sopClass = uid("SOPClassUID");
  if (!study || !series || !sop || !sopClass) throw new EngineError("InvalidParams", `${basename(p.image)} lacks a Study, Series or SOP Instance UID or SOP Class UID to reference`);
  const sopInstance = DicomMetaDictionary.uid();
  const { date, time } = dicomDateTime(now);
  const copied = p.includePatientModule === true;
  const identifying = Object.fromEntries([...PATIENT_MODULE, ...STUDY_IDENTIFYING].map((k) => [k, copied && src[k] !== undefined ? src[k] : ""]));
  const referenced = { ReferencedSOPClassUID: sopClass, ReferencedSOPInstanceUID: sop };
  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: "ISO_IR 192",
    SOPClassUID: BASIC_TEXT_SR,
    SOPInstanceUID: sopInstance,
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    Modality: "SR",
    Manufacturer: "xraygpt",
    ...identifying,
    StudyInstanceUID: study,
    SeriesInstanceUID: DicomMetaDictionary.uid(),
    SeriesNumber: "990",
    InstanceNumber: "1",
    ReferencedPerformedProcedureStepSequence: [],
    PerformedProcedureCodeSequence: [],
    ContentDate: date,
    ContentTime: time,
    ValueType: "CONTAINER",
    ConceptNameCodeSequence: code(REPORT_TITLE),
    ContinuityOfContent: "SEPARATE",
    CompletionFlag: "COMPLETE",
    VerificationFlag: "UNVERIFIED",
    CurrentRequestedProcedureEvidenceSequence: [{ StudyInstanceUID: study, ReferencedSeriesSequence: [{ SeriesInstanceUID: series, ReferencedSOPSequence: [referenced] }] }],
    ContentSequence: [
      ...sections.map((s) => ({ RelationshipType: "CONTAINS", ValueType: "TEXT", ConceptNameCodeSequence: code(SECTION_CODES[s.name.toLowerCase()]!), TextValue: s.text.trim() })),
      { RelationshipType: "CONTAINS", ValueType: "IMAGE", ReferencedSOPSequence: [referenced] },
    ],
  };
  const meta = { MediaStorageSOPClassUID: BASIC_TEXT_SR, MediaStorageSOPInstanceUID: sopInstance, TransferSyntaxUID: EXPLICIT_LE, ImplementationClassUID: "1.2.826.0.1.3680043.10.1000.1", ImplementationVersionName: "XRAYGPT" };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  try {
    writeFileSync(p.out, new Uint8Array(dict.write()), { flag: "wx" });
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    throw new EngineError("InvalidParams", c === "EEXIST" ? `exportSr: ${p.out} already exists; choose another file` : `exportSr: cannot write ${p.out} (${c ?? "error"})`);
  }
  return { out: p.out, sopInstanceUid: sopInstance, studyInstanceUid: study, referencedSopInstanceUid: sop, patientModuleCopied: copied };
}

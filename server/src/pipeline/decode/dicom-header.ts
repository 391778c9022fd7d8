/**
 * Parses a DICOM file (Part 10 with preamble, "DICM" without the 128-byte preamble, or a bare
 * data set without file meta information in implicit or explicit VR little endian) with
 * dicom-parser, and reads the image pixel module. Pixel data is located, not decoded, here.
 * Causes in errors never quote element values (patient data stays out of messages).
 */
import { createRequire } from "node:module";
import type { DataSet } from "dicom-parser";
import type { Window } from "./pixel-scale.js";

const require = createRequire(import.meta.url);
const dicomParser = require("dicom-parser") as typeof import("dicom-parser");

export type DicomVariant = "dicom" | "dicom-no-preamble" | "dicom-raw";

export interface DicomImageHeader {
  transferSyntax: string;
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  photometric: string;
  slope: number;
  intercept: number;
  /** Every VOI window of the file, first is the default. */
  windows: Window[];
  modality?: string;
  view?: string;
  laterality?: string;
  bodyPart?: string;
}

/** Thrown for a file that is not DICOM after all (a bare data set that does not parse). */
export class NotDicomError extends Error {}

/** A Part 10 file whose data set does not parse; `transferSyntax` from its meta header if readable. */
export class DicomParseError extends Error {
  constructor(
    message: string,
    readonly transferSyntax: string | undefined,
  ) {
    super(message);
  }
}

/** The transfer syntax in the file meta header alone (for files whose data set fails to parse). */
function metaTransferSyntax(bytes: Uint8Array, variant: DicomVariant): string | undefined {
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const meta = dicomParser.readPart10Header(variant === "dicom" ? buf : Buffer.concat([Buffer.alloc(128), buf]));
    return meta.string("x00020010");
  } catch {
    return undefined;
  }
}

const IMPLICIT_LE = "1.2.840.10008.1.2";
const EXPLICIT_LE = "1.2.840.10008.1.2.1";
const VRS = new Set(
  "AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV".split(" "),
);

/** dicom-parser throws strings, Errors, or { exception, dataSet }; keep a short, value-free text. */
export function parserMessage(e: unknown): string {
  const inner = typeof e === "object" && e !== null && "exception" in e ? (e as { exception: unknown }).exception : e;
  const text = inner instanceof Error ? inner.message : String(inner);
  // Quoted parts may be element values (dicom-parser's "invalid DA '<date>'"): never repeat them.
  return text.replace(/'[^']*'/g, "'…'").replace(/[^\x20-\x7e]/g, "?").slice(0, 160);
}

function parse(bytes: Uint8Array, variant: DicomVariant): DataSet {
  // dicom-parser inflates deflated data sets with Buffer methods, so hand it a Buffer view.
  let buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (variant === "dicom") return dicomParser.parseDicom(buf);
  if (variant === "dicom-no-preamble") {
    buf = Buffer.concat([Buffer.alloc(128), buf]);
    return dicomParser.parseDicom(buf);
  }
  const explicit = VRS.has(String.fromCharCode(bytes[4] ?? 0, bytes[5] ?? 0));
  return dicomParser.parseDicom(buf, { TransferSyntaxUID: explicit ? EXPLICIT_LE : IMPLICIT_LE });
}

/**
 * Parses the file; throws NotDicomError for a bare data set that does not parse as one, and a
 * plain Error (its message value-free) for a corrupt or truncated DICOM file.
 */
export function parseDicomFile(bytes: Uint8Array, variant: DicomVariant): DataSet {
  let ds: DataSet;
  try {
    ds = parse(bytes, variant);
  } catch (e) {
    if (variant === "dicom-raw") throw new NotDicomError(parserMessage(e));
    throw new DicomParseError(parserMessage(e), metaTransferSyntax(bytes, variant));
  }
  if (variant === "dicom-raw" && !(ds.elements.x7fe00010 && ds.elements.x00280010 && ds.elements.x00280011)) {
    throw new NotDicomError("no image pixel module");
  }
  return ds;
}

/** A short code string: printable ASCII, at most 64 characters. */
function text(ds: DataSet, tag: string): string | undefined {
  const value = ds.string(tag)?.replace(/[^\x20-\x7e]/g, "").slice(0, 64).trim();
  return value ? value : undefined;
}

/** Enumerated values this decoder passes on (anything else in these elements is dropped, never echoed). */
const MODALITIES = new Set("CR DX MG RF XA CT MR US OT SC PX IO NM PT RG DF DR".split(" "));
const VIEWS = new Set("AP PA LL RL RLD LLD RLO LLO LAT LATERAL OBL".split(" "));
const LATERALITIES = new Set(["R", "L", "B", "U"]);
/** BodyPartExamined defined terms (PS3.16 Annex L) a radiograph carries; other values are not shown. */
const BODY_PARTS = new Set("CHEST ABDOMEN PELVIS CHESTABDOMEN CHESTABDPELVIS ABDOMENPELVIS SKULL HEAD NECK CSPINE TSPINE LSPINE SSPINE SPINE SHOULDER CLAVICLE HUMERUS ELBOW FOREARM WRIST HAND FINGER HIP FEMUR KNEE LEG ANKLE FOOT TOE EXTREMITY RIB STERNUM BREAST THORAX".split(" "));
/** The standard photometric interpretations (PS3.3 C.7.6.3.1.2): the only ones named in errors. */
export const PHOTOMETRICS = new Set(
  "MONOCHROME1 MONOCHROME2 RGB HSV ARGB CMYK YBR_FULL YBR_FULL_422 YBR_PARTIAL_422 YBR_PARTIAL_420 YBR_ICT YBR_RCT XYB".split(" ").concat(["PALETTE COLOR"]),
);

/** An enumerated code value of the given set, upper-cased; undefined for anything else. */
function codeFrom(ds: DataSet, tag: string, allowed: Set<string>): string | undefined {
  const v = text(ds, tag)?.toUpperCase();
  return v && allowed.has(v) ? v : undefined;
}

/** The photometric interpretation for messages and outputs: its standard name, or a placeholder. */
export function photometricName(value: string): string {
  return PHOTOMETRICS.has(value.toUpperCase()) ? value.toUpperCase() : "(not a standard value)";
}

function numbers(ds: DataSet, tag: string): number[] {
  const value = ds.string(tag);
  if (!value) return [];
  return value.split("\\").map((v) => Number.parseFloat(v));
}

/** US element read with the data set's byte order; `fallback` when absent. */
function us(ds: DataSet, tag: string, fallback: number): number {
  return ds.elements[tag] ? ds.uint16(tag) ?? fallback : fallback;
}

export function readImageHeader(ds: DataSet): DicomImageHeader {
  const centers = numbers(ds, "x00281050");
  const widths = numbers(ds, "x00281051");
  const windows: Window[] = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    const center = centers[i]!;
    const width = widths[i]!;
    if (Number.isFinite(center) && Number.isFinite(width) && width > 0) windows.push({ center, width });
  }
  const bitsAllocated = us(ds, "x00280100", 16);
  const bitsStored = us(ds, "x00280101", bitsAllocated);
  const slope = numbers(ds, "x00281053")[0];
  const intercept = numbers(ds, "x00281052")[0];
  const framesText = ds.string("x00280008")?.trim();
  const frames = framesText === undefined || framesText === "" ? 1 : /^\+?\d{1,9}$/.test(framesText) ? Number(framesText) : Number.NaN;
  return {
    transferSyntax: ds.string("x00020010") ?? IMPLICIT_LE,
    rows: us(ds, "x00280010", 0),
    columns: us(ds, "x00280011", 0),
    frames,
    samplesPerPixel: us(ds, "x00280002", 1),
    bitsAllocated,
    bitsStored,
    highBit: us(ds, "x00280102", bitsStored - 1),
    pixelRepresentation: us(ds, "x00280103", 0),
    planarConfiguration: us(ds, "x00280006", 0),
    photometric: (text(ds, "x00280004") ?? "MONOCHROME2").toUpperCase(),
    slope: slope !== undefined && Number.isFinite(slope) && slope !== 0 ? slope : 1,
    intercept: intercept !== undefined && Number.isFinite(intercept) ? intercept : 0,
    windows,
    modality: codeFrom(ds, "x00080060", MODALITIES),
    view: codeFrom(ds, "x00185101", VIEWS),
    laterality: codeFrom(ds, "x00200062", LATERALITIES) ?? codeFrom(ds, "x00200060", LATERALITIES),
    bodyPart: codeFrom(ds, "x00180015", BODY_PARTS),
  };
}

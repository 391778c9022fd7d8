/**
 * The first frame of a DICOM image as raw samples: sliced from native pixel data, or located in
 * the encapsulated fragments (Basic Offset Table, one fragment per frame, or JPEG markers) and
 * decoded by the matching codec. Throws Error with a value-free cause.
 */
import { createRequire } from "node:module";
import type { DataSet } from "dicom-parser";
import type { DicomImageHeader } from "./dicom-header.js";
import type { TransferSyntax } from "./dicom-syntax.js";
import { decodeFrame, type DecodedFrame } from "./frame-codecs.js";
import { checkRleFrame } from "./rle-check.js";

const require = createRequire(import.meta.url);
const dicomParser = require("dicom-parser") as typeof import("dicom-parser");

/** Bytes of one native frame; uncompressed YBR_FULL_422 packs two samples per pixel. */
export function nativeFrameBytes(h: DicomImageHeader): number {
  const samples = h.photometric === "YBR_FULL_422" && h.samplesPerPixel === 3 ? 2 : h.samplesPerPixel;
  return (h.rows * h.columns * samples * h.bitsAllocated) / 8;
}

function nativeFrame(ds: DataSet, h: DicomImageHeader): DecodedFrame {
  const el = ds.elements.x7fe00010!;
  const size = nativeFrameBytes(h);
  const available = Math.min(el.length, ds.byteArray.length - el.dataOffset);
  if (available < size) throw new Error(`truncated pixel data: ${Math.max(0, available)} bytes, the first frame needs ${size}`);
  if (available < size * h.frames) throw new Error(`truncated pixel data: ${available} bytes, NumberOfFrames ${h.frames} × ${size} bytes needs ${size * h.frames}`);
  return {
    data: ds.byteArray.subarray(el.dataOffset, el.dataOffset + size),
    photometric: h.photometric,
    planarConfiguration: h.planarConfiguration,
  };
}

function encapsulatedFirstFrame(ds: DataSet, h: DicomImageHeader, syntax: TransferSyntax): Uint8Array {
  const el = ds.elements.x7fe00010!;
  const fragments = el.fragments ?? [];
  if (fragments.length === 0) throw new Error("encapsulated pixel data has no fragments");
  const last = fragments[fragments.length - 1]!;
  if (last.position + last.length > ds.byteArray.length) throw new Error("truncated pixel data fragment");
  if (h.frames === 1) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length);
  const table = el.basicOffsetTable ?? [];
  if (table.length > 0) {
    const total = fragments.reduce((n, f) => n + f.length + 8, 0);
    if (table.length !== h.frames) throw new Error(`the Basic Offset Table has ${table.length} entries for ${h.frames} frames`);
    if (table.some((o, i) => o >= total || (i > 0 && o <= table[i - 1]!)) || table[0] !== 0) throw new Error("the Basic Offset Table's offsets are not increasing offsets inside the pixel data");
    return dicomParser.readEncapsulatedImageFrame(ds, el, 0, table);
  }
  if (fragments.length === h.frames) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, 1);
  if (syntax.codec === "jpeg") {
    return dicomParser.readEncapsulatedImageFrame(ds, el, 0, dicomParser.createJPEGBasicOffsetTable(ds, el));
  }
  throw new Error("cannot locate the first frame: no offset table and several fragments per frame");
}

/**
 * JPEG, JPEG-LS and JPEG 2000 / HTJ2K code streams all end with the marker FF D9 (EOI / EOC);
 * a frame without it was cut short, and codecs would fill the missing part with grey.
 */
function checkEndMarker(encoded: Uint8Array, syntaxName: string): void {
  let end = encoded.length;
  while (end > 0 && encoded[end - 1] === 0 && encoded.length - end < 2) end--; // even-length padding
  if (end < 2 || encoded[end - 2] !== 0xff || encoded[end - 1] !== 0xd9) throw new Error(`corrupt ${syntaxName} pixel data: the frame does not end with its end-of-image marker (truncated?)`);
}

/**
 * A JPEG 2000 / HTJ2K code stream states its own image size in its SIZ marker segment
 * (after SOC FF4F: FF51, Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz); it must be the header's, or
 * the codec fills a frame of the header's size from a smaller image.
 */
function checkJ2kSize(encoded: Uint8Array, h: DicomImageHeader, syntaxName: string): void {
  let at = -1;
  for (let i = 0; i + 4 <= Math.min(encoded.length, 4096); i++) {
    if (encoded[i] === 0xff && encoded[i + 1] === 0x4f && encoded[i + 2] === 0xff && encoded[i + 3] === 0x51) {
      at = i + 4;
      break;
    }
  }
  if (at < 0 || at + 20 > encoded.length) throw new Error(`corrupt ${syntaxName} pixel data: no SIZ marker segment`);
  const v = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const width = v.getUint32(at + 4) - v.getUint32(at + 12);
  const height = v.getUint32(at + 8) - v.getUint32(at + 16);
  if (width !== h.columns || height !== h.rows) throw new Error(`corrupt ${syntaxName} pixel data: the code stream is ${width}×${height}, the header says ${h.columns}×${h.rows}`);
}

export async function firstFrame(ds: DataSet, h: DicomImageHeader, syntax: TransferSyntax): Promise<DecodedFrame> {
  const el = ds.elements.x7fe00010!;
  if (!syntax.codec) {
    if (el.encapsulatedPixelData) throw new Error(`encapsulated pixel data in the uncompressed syntax ${syntax.name}`);
    return nativeFrame(ds, h);
  }
  if (!el.encapsulatedPixelData) throw new Error(`native pixel data in the compressed syntax ${syntax.name}`);
  const encoded = encapsulatedFirstFrame(ds, h, syntax);
  if (syntax.codec === "rle") checkRleFrame(encoded, h.rows, h.columns, h.samplesPerPixel, h.bitsAllocated);
  else checkEndMarker(encoded, syntax.name);
  if (syntax.codec === "jpeg-2000" || syntax.codec === "ht-jpeg-2000") checkJ2kSize(encoded, h, syntax.name);
  let frame: DecodedFrame;
  try {
    frame = await decodeFrame(syntax.codec, encoded, {
      width: h.columns,
      height: h.rows,
      bitsAllocated: h.bitsAllocated,
      bitsStored: h.bitsStored,
      samplesPerPixel: h.samplesPerPixel,
      pixelRepresentation: h.pixelRepresentation,
      planarConfiguration: h.planarConfiguration,
      photometric: h.photometric,
    });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`corrupt ${syntax.name} pixel data (${why.replace(/[^\x20-\x7e]/g, "?").slice(0, 120)})`);
  }
  const expected = (h.rows * h.columns * h.samplesPerPixel * h.bitsAllocated) / 8;
  if (frame.data.length < expected || (syntax.codec === "rle" && frame.data.length !== expected)) {
    throw new Error(`corrupt ${syntax.name} pixel data: decoded ${frame.data.length} bytes, expected ${expected}`);
  }
  return frame;
}

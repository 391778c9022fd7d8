/**
 * DICOM → DecodedImage: header checks (size limit before any pixel is decoded, supported transfer
 * syntax and pixel format), the first frame, then the grey scale mapping of pixel-scale.ts.
 */
import type { DecodedImage } from "./decoded-image.js";
import { DicomParseError, NotDicomError, parseDicomFile, photometricName, readImageHeader, type DicomImageHeader, type DicomVariant } from "./dicom-header.js";
import { firstFrame } from "./dicom-frame.js";
import { transferSyntax, unsupportedSyntaxCause } from "./dicom-syntax.js";
import { listTags } from "./dicom-tags.js";
import { ImageError } from "./image-error.js";
import { FULL_WINDOW, modalityRange, scaleColour, scaleGrey, windowToScale, type ColourLayout, type StoredFormat } from "./pixel-scale.js";
import { checkPixelCount } from "./pixel-limit.js";
import type { DataSet } from "dicom-parser";

function colourLayout(photometric: string, decodedBytes: number, h: DicomImageHeader): ColourLayout | undefined {
  switch (photometric) {
    case "RGB":
    case "YBR_RCT": // JPEG 2000 codecs undo the component transform: the samples are RGB
    case "YBR_ICT":
      return "rgb";
    case "YBR_FULL":
      return "ybr-full";
    case "YBR_FULL_422": {
      // Codecs return full-resolution samples; uncompressed data packs Y0 Y1 Cb Cr.
      const full = (h.rows * h.columns * 3 * h.bitsAllocated) / 8;
      return decodedBytes >= full ? "ybr-full" : "ybr-full-422";
    }
    case "YBR_PARTIAL_422":
    case "YBR_PARTIAL_420":
      return "ybr-partial";
    default:
      return undefined;
  }
}

function checkPixelFormat(h: DicomImageHeader): string | undefined {
  if (h.rows <= 0 || h.columns <= 0) return "DICOM image has no rows or columns";
  if (!Number.isInteger(h.frames) || h.frames < 1) return "invalid NumberOfFrames (must be an integer ≥ 1)";
  if (![8, 16, 32].includes(h.bitsAllocated)) return `unsupported BitsAllocated ${h.bitsAllocated}`;
  if (h.bitsStored < 1 || h.bitsStored > h.bitsAllocated) return `invalid BitsStored ${h.bitsStored} for BitsAllocated ${h.bitsAllocated}`;
  if (h.samplesPerPixel !== 1 && h.samplesPerPixel !== 3) return `unsupported SamplesPerPixel ${h.samplesPerPixel}`;
  if (h.samplesPerPixel === 1 && h.photometric !== "MONOCHROME1" && h.photometric !== "MONOCHROME2") {
    return `unsupported photometric interpretation ${photometricName(h.photometric)}`;
  }
  if (h.samplesPerPixel === 3 && h.bitsAllocated === 32) return "unsupported 32-bit colour";
  return undefined;
}

export async function decodeDicom(bytes: Uint8Array, variant: DicomVariant, file: string, maxPixels: number): Promise<DecodedImage> {
  let ds: DataSet;
  try {
    ds = parseDicomFile(bytes, variant);
  } catch (e) {
    if (e instanceof NotDicomError) throw new ImageError(file, "not an image (unknown format)");
    const uid = e instanceof DicomParseError ? e.transferSyntax : undefined;
    if (uid && !transferSyntax(uid)) throw new ImageError(file, unsupportedSyntaxCause(uid));
    throw new ImageError(file, `corrupt or truncated DICOM file (${(e as Error).message})`);
  }
  if (!ds.elements.x7fe00010) throw new ImageError(file, "DICOM file has no pixel data (not an image)");
  const h = readImageHeader(ds);
  checkPixelCount(file, h.columns, h.rows, maxPixels);
  const syntax = transferSyntax(h.transferSyntax);
  if (!syntax) throw new ImageError(file, unsupportedSyntaxCause(h.transferSyntax));
  const formatProblem = checkPixelFormat(h);
  if (formatProblem) throw new ImageError(file, formatProblem);

  let frame;
  try {
    frame = await firstFrame(ds, h, syntax);
  } catch (e) {
    throw new ImageError(file, (e as Error).message);
  }
  const count = h.rows * h.columns;
  const bigEndian = syntax.bigEndian === true;
  let pixels: Uint16Array;
  let window = FULL_WINDOW;
  let range;
  if (h.samplesPerPixel === 1) {
    const format: StoredFormat = {
      bitsAllocated: h.bitsAllocated,
      bitsStored: h.bitsStored,
      highBit: h.highBit,
      signed: h.pixelRepresentation === 1,
      slope: h.slope,
      intercept: h.intercept,
      invert: h.photometric === "MONOCHROME1",
    };
    pixels = scaleGrey(frame.data, count, format, bigEndian);
    range = modalityRange(format);
    if (h.windows[0]) window = windowToScale(h.windows[0], range, format.invert);
  } else {
    const layout = colourLayout(frame.photometric.toUpperCase(), frame.data.length, h);
    if (!layout) throw new ImageError(file, `unsupported colour photometric interpretation ${photometricName(frame.photometric)}`);
    pixels = scaleColour(frame.data, h.columns, h.rows, h.bitsAllocated, layout, frame.planarConfiguration === 1, bigEndian);
  }
  return {
    info: {
      format: "dicom",
      width: h.columns,
      height: h.rows,
      bitsStored: h.bitsStored,
      frames: h.frames,
      modality: h.modality,
      view: h.view,
      laterality: h.laterality,
      bodyPart: h.bodyPart,
      photometric: photometricName(h.photometric),
      transferSyntax: syntax.uid,
    },
    width: h.columns,
    height: h.rows,
    pixels,
    window,
    modalityRange: range,
    tags: listTags(ds),
  };
}

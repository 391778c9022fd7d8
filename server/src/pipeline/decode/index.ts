/**
 * Image decode stage: a file (PNG, JPEG, WebP, TIFF, GIF, or DICOM in any transfer syntax of
 * dicom-syntax.ts) → a 16-bit grey image + technical metadata + (DICOM) tags.
 *
 * The grey scale (pixel-scale.ts): DICOM stored values are masked to BitsStored, sign-extended
 * when signed, rescaled (slope/intercept); the whole possible modality range maps linearly onto
 * 0..65535 and MONOCHROME1 inverts, so higher is always brighter. The default window is the
 * file's first VOI window mapped through the same map, or the full range. Non-DICOM 8-bit samples
 * become v × 257, 16-bit ones stay; colour becomes BT.601 luma.
 *
 * Errors are ImageError: "<file>: <cause>", never quoting DICOM content.
 */
import { checkPath, PathNotAllowedError } from "../../util/path-guard.js";
import { FileError, readRegularFile } from "../../util/safe-file.js";
import type { DecodedImage } from "./decoded-image.js";
import { decodeDicom } from "./dicom-image.js";
import { ImageError } from "./image-error.js";
import { DEFAULT_MAX_PIXELS } from "./pixel-limit.js";
import { decodeRaster } from "./raster-image.js";
import { sniffFormat } from "./sniff.js";

export type { DecodedImage } from "./decoded-image.js";
export { ImageError, type ImageErrorKind } from "./image-error.js";
export { downscale, toGray, toGrayBytes } from "./gray.js";
export { redactedTags } from "./dicom-tags.js";
export { SUPPORTED_TRANSFER_SYNTAXES } from "./dicom-syntax.js";
export { DEFAULT_MAX_PIXELS } from "./pixel-limit.js";

export interface DecodeOptions {
  /** Folders the file must lie in (after resolving symlinks); any folder when omitted. */
  allowedRoots?: string[];
  /** Largest accepted width × height (default 100 megapixels), checked from the header. */
  maxPixels?: number;
}

/** Files larger than this are refused before reading (no image this decoder takes is near it). */
const MAX_FILE_BYTES = 2 ** 31 - 1;

/** Reads the image file: regular files only, never blocking on open (util/safe-file.ts). */
async function readImageFile(path: string): Promise<Uint8Array> {
  try {
    return await readRegularFile(path, { what: "image", maxBytes: MAX_FILE_BYTES });
  } catch (e) {
    if (e instanceof FileError) throw new ImageError(path, e.reason);
    throw e;
  }
}

export async function decodeImage(path: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  if (opts.allowedRoots) {
    try {
      checkPath(path, opts.allowedRoots);
    } catch (e) {
      if (e instanceof PathNotAllowedError) throw new ImageError(path, "path is outside the allowed folders", "PathNotAllowed");
      throw e;
    }
  }
  const bytes = await readImageFile(path);
  return decodeImageBuffer(bytes, path, opts);
}

/** Decodes in-memory bytes; `name` (a path or file name) is what errors name. */
export async function decodeImageBuffer(bytes: Uint8Array, name: string, opts: { maxPixels?: number } = {}): Promise<DecodedImage> {
  const file = name || "(unnamed image)";
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length === 0) throw new ImageError(file, "empty file (0 bytes)");
  const format = sniffFormat(bytes);
  switch (format) {
    case undefined:
      throw new ImageError(file, "not an image (unknown format)");
    case "dicom":
    case "dicom-no-preamble":
    case "dicom-raw":
      return decodeDicom(bytes, format, file, maxPixels);
    case "gif":
      return decodeRaster(bytes, "other", file, maxPixels);
    default:
      return decodeRaster(bytes, format, file, maxPixels);
  }
}

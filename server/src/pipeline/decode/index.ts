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
import { open, realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
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

function inside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

async function realOrResolved(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

/** Refuses a path outside the allowed roots; a missing file is judged by its resolved path. */
async function checkAllowed(path: string, roots: string[]): Promise<void> {
  const target = await realOrResolved(path);
  const realRoots = await Promise.all(roots.map(realOrResolved));
  if (!realRoots.some((root) => inside(root, target))) {
    throw new ImageError(path, "path is outside the allowed folders", "PathNotAllowed");
  }
}

function fileCause(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "file not found";
    case "EISDIR":
      return "is a directory, not an image file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    default:
      return `cannot read the file (${code ?? "unknown error"})`;
  }
}

async function readImageFile(path: string): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (e) {
    throw new ImageError(path, fileCause(e));
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new ImageError(path, "is a directory, not an image file");
    if (!stat.isFile()) throw new ImageError(path, "not a regular file");
    if (stat.size > MAX_FILE_BYTES) throw new ImageError(path, `file too large (${stat.size} bytes)`);
    return await handle.readFile();
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError(path, fileCause(e));
  } finally {
    await handle.close();
  }
}

export async function decodeImage(path: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  if (opts.allowedRoots) await checkAllowed(path, opts.allowedRoots);
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

/** The images of a batch: a folder (searched recursively) or a list file (one path per line). */
import { readdirSync } from "node:fs";
import { dirname, extname, isAbsolute, join, resolve } from "node:path";
import { PathGuard, PathNotAllowedError } from "../util/path-guard.js";
import { readRegularFileSync, statOrThrow } from "../util/safe-file.js";

export const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".dcm", ".dicom"];

export class ImageListError extends Error {
  override name = "ImageListError";
}

function walk(dir: string, out: string[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())) out.push(p);
  }
}

/**
 * Absolute image paths, in a stable order. A folder gives its image files (by extension, hidden
 * entries skipped, sorted by name); any other file is a list: one path per line, relative paths
 * taken from the list's folder, blank lines and lines starting with # ignored. With `roots`,
 * the folder or list must lie inside them (util/path-guard.ts); each image is checked when it is
 * annotated. A list must be a regular file (a FIFO is refused, never opened).
 */
export function listImages(input: string, roots?: readonly string[]): string[] {
  const path = resolve(input);
  let st;
  try {
    new PathGuard(roots).check(path);
    st = statOrThrow(path);
  } catch (e) {
    if (e instanceof PathNotAllowedError) throw e;
    throw new ImageListError((e as Error).message);
  }
  if (st.isDirectory()) {
    const out: string[] = [];
    walk(path, out);
    if (out.length === 0) throw new ImageListError(`${path}: no images (${IMAGE_EXTENSIONS.join(", ")}) in this folder`);
    return out;
  }
  if (IMAGE_EXTENSIONS.includes(extname(path).toLowerCase())) return [path];
  let text: string;
  try {
    text = readRegularFileSync(path, { what: "image list", maxBytes: 64 * 1024 * 1024 }).toString("utf8");
  } catch (e) {
    if (e instanceof PathNotAllowedError) throw e;
    throw new ImageListError((e as Error).message);
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("#"));
  if (lines.length === 0) throw new ImageListError(`${path}: the list names no images`);
  if (lines.some((l) => l.includes("\u0000"))) throw new ImageListError(`${path}: not a text list of image paths`);
  return lines.map((l) => (isAbsolute(l) ? l : resolve(dirname(path), l)));
}

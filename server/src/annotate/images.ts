/** The images of a batch: a folder (searched recursively) or a list file (one path per line). */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, isAbsolute, join, resolve } from "node:path";

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
 * taken from the list's folder, blank lines and lines starting with # ignored.
 */
export function listImages(input: string): string[] {
  const path = resolve(input);
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ImageListError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (st.isDirectory()) {
    const out: string[] = [];
    walk(path, out);
    if (out.length === 0) throw new ImageListError(`${path}: no images (${IMAGE_EXTENSIONS.join(", ")}) in this folder`);
    return out;
  }
  if (IMAGE_EXTENSIONS.includes(extname(path).toLowerCase())) return [path];
  const lines = readFileSync(path, "utf8")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("#"));
  if (lines.length === 0) throw new ImageListError(`${path}: the list names no images`);
  if (lines.some((l) => l.includes("\u0000"))) throw new ImageListError(`${path}: not a text list of image paths`);
  return lines.map((l) => (isAbsolute(l) ? l : resolve(dirname(path), l)));
}

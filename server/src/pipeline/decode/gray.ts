/**
 * From the decode stage's 16-bit grey scale to what the other stages use: `toGray` applies a
 * linear window, g = clamp((p − (center − width/2)) / width, 0, 1), through a 65536-entry table;
 * `downscale` shrinks for the viewer by area averaging (the preprocess stage's resize).
 */
import type { ByteImage, GrayImage } from "../preprocess.js";
import { resizeArea } from "../preprocess.js";
import type { DecodedImage } from "./decoded-image.js";
import { wordReads, type Window } from "./pixel-scale.js";

let cachedTable: { key: string; table: Float32Array } | undefined;

function windowTable(window: Window): Float32Array {
  const key = `${window.center}:${window.width}`;
  if (cachedTable?.key === key) return cachedTable.table;
  const table = new Float32Array(65536);
  const width = Math.max(window.width, 1e-9);
  const low = window.center - width / 2;
  for (let p = 0; p < 65536; p++) table[p] = Math.min(1, Math.max(0, (p - low) / width));
  cachedTable = { key, table };
  return table;
}

export function toGray(img: DecodedImage, window: Window = img.window): GrayImage {
  const table = windowTable(window);
  const { pixels } = img;
  const data = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) data[i] = table[pixels[i]!]!;
  return { width: img.width, height: img.height, data };
}

let cachedBytes: { key: string; table: Uint8Array } | undefined;

/**
 * `quantize(toGray(img, window))` in one pass through a 65536-entry byte table: exactly the
 * same bytes (the table is built from the same float32 grey values), without the float image.
 */
export function toGrayBytes(img: DecodedImage, window: Window = img.window): ByteImage {
  const key = `${window.center}:${window.width}`;
  if (cachedBytes?.key !== key) {
    const grey = windowTable(window);
    const table = new Uint8Array(65536);
    for (let p = 0; p < 65536; p++) table[p] = Math.round(grey[p]! * 255);
    cachedBytes = { key, table };
  }
  return { width: img.width, height: img.height, data: lookUpBytes(img.pixels, cachedBytes.table) };
}

/** `table[pixels[i]]` for every pixel, written four per 32-bit store (from two reads). */
function lookUpBytes(pixels: Uint16Array, table: Uint8Array): Uint8Array {
  const n = pixels.length;
  const out = new Uint8Array(n);
  const quads = new Uint32Array(out.buffer, 0, n >> 2);
  const by = wordReads(pixels);
  let done = 0;
  if (by?.skew === 0) {
    const { reads } = by;
    const q = Math.min(quads.length, reads.length >> 1);
    for (let i = 0, j = 0; i < q; i++, j += 2) {
      const a = reads[j]!;
      const b = reads[j + 1]!;
      quads[i] = table[a & 0xffff]! | (table[a >>> 16]! << 8) | (table[b & 0xffff]! << 16) | (table[b >>> 16]! << 24);
    }
    done = q * 4;
  } else if (by?.skew === 1 && n > 0) {
    // Store i holds pixels 4i .. 4i + 3: the first from the previous read (or pixel 0).
    const { reads } = by;
    const q = Math.min(quads.length, reads.length >> 1);
    let carry = pixels[0]!;
    for (let i = 0, j = 0; i < q; i++, j += 2) {
      const a = reads[j]!;
      const b = reads[j + 1]!;
      quads[i] = table[carry]! | (table[a & 0xffff]! << 8) | (table[a >>> 16]! << 16) | (table[b & 0xffff]! << 24);
      carry = b >>> 16;
    }
    done = q * 4;
  }
  for (let i = done; i < n; i++) out[i] = table[pixels[i]!]!;
  return out;
}

/** Area-averaged copy whose longer side is `maxSize`; the image itself when already small. */
export function downscale(img: DecodedImage, maxSize: number): DecodedImage {
  const longer = Math.max(img.width, img.height);
  if (longer <= maxSize || maxSize < 1) return img;
  const scale = maxSize / longer;
  const width = Math.max(1, Math.round(img.width * scale));
  const height = Math.max(1, Math.round(img.height * scale));
  const resized = resizeArea({ width: img.width, height: img.height, data: img.pixels }, width, height);
  const pixels = new Uint16Array(width * height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.min(65535, Math.round(resized[i]!));
  return { ...img, width, height, pixels };
}

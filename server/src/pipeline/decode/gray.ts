/**
 * From the decode stage's 16-bit grey scale to what the other stages use: `toGray` applies a
 * linear window, g = clamp((p − (center − width/2)) / width, 0, 1), through a 65536-entry table;
 * `downscale` shrinks for the viewer by area averaging (the preprocess stage's resize).
 */
import type { ByteImage, GrayImage } from "../preprocess.js";
import { resizeArea } from "../preprocess.js";
import type { DecodedImage } from "./decoded-image.js";
import type { Window } from "./pixel-scale.js";

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
  const { table } = cachedBytes;
  const { pixels } = img;
  const data = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) data[i] = table[pixels[i]!]!;
  return { width: img.width, height: img.height, data };
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

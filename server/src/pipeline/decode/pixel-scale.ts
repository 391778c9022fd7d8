/**
 * Stored DICOM samples → the decode stage's 16-bit grey scale (0..65535, higher = brighter).
 *
 * The scale: a stored value s is first masked to BitsStored (after shifting down so HighBit is
 * the top stored bit) and, for PixelRepresentation 1, sign-extended from BitsStored. Its modality
 * value is m = s × RescaleSlope + RescaleIntercept (slope 0 or missing counts as 1). The range of
 * m over every possible stored value, [min, max], maps LINEARLY onto 0..65535:
 *     p = round((m − min) / (max − min) × 65535)
 * and MONOCHROME1 then inverts: p' = 65535 − p. So an 8-bit unsigned image gives p = s × 257, an
 * unsigned 16-bit one p = s, and a signed 12-bit CT −2048..2047 (intercept −1024) gives
 * p = round((s + 2048) × 65535 / 4095).
 * A window (center c, width w, in modality units) maps through the same affine map:
 *     c' = (c − min) / (max − min) × 65535, w' = w / (max − min) × 65535, and c' → 65535 − c' for
 * MONOCHROME1 (the linear window is symmetric, so inverting the pixels and the center commutes).
 * `toGray` applies a window as g = clamp((p − (c' − w'/2)) / w', 0, 1).
 */
export interface StoredFormat {
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  slope: number;
  intercept: number;
  /** MONOCHROME1: higher modality values are darker. */
  invert: boolean;
}

/** Modality values that map to pixel 0 and 65535 (before MONOCHROME1 inversion). */
export interface ModalityRange {
  min: number;
  max: number;
}

export interface Window {
  center: number;
  width: number;
}

export const FULL_WINDOW: Window = { center: 32767.5, width: 65535 };

function slopeOf(f: StoredFormat): number {
  return f.slope === 0 || !Number.isFinite(f.slope) ? 1 : f.slope;
}

function storedRange(f: StoredFormat): [number, number] {
  return f.signed ? [-(2 ** (f.bitsStored - 1)), 2 ** (f.bitsStored - 1) - 1] : [0, 2 ** f.bitsStored - 1];
}

export function modalityRange(f: StoredFormat): ModalityRange {
  const [smin, smax] = storedRange(f);
  const slope = slopeOf(f);
  const a = smin * slope + f.intercept;
  const b = smax * slope + f.intercept;
  return { min: Math.min(a, b), max: Math.max(a, b) };
}

/** A DICOM window (modality units) in the 0..65535 pixel scale. */
export function windowToScale(w: Window, range: ModalityRange, invert: boolean): Window {
  const span = range.max - range.min;
  const center = ((w.center - range.min) / span) * 65535;
  return { center: invert ? 65535 - center : center, width: (w.width / span) * 65535 };
}

/** The mapping of one raw sample word (as read from the data, any endianness) to the scale. */
function sampleMapper(f: StoredFormat, swapBytes: boolean): (raw: number) => number {
  const shift = Math.max(0, f.highBit + 1 - f.bitsStored);
  const bits = f.bitsStored;
  const mask = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
  const signBit = 2 ** (bits - 1);
  const [smin, smax] = storedRange(f);
  const slope = slopeOf(f);
  const k = 65535 / (smax - smin);
  const ascending = slope > 0;
  return (raw) => {
    let word = raw;
    if (swapBytes) word = ((raw & 0xff) << 8) | ((raw >>> 8) & 0xff);
    let s = Math.floor(word / 2 ** shift) % (mask + 1);
    if (f.signed && s >= signBit) s -= 2 * signBit;
    const p = Math.round((ascending ? s - smin : smax - s) * k);
    return f.invert ? 65535 - p : p;
  };
}

function isIdentity(f: StoredFormat): boolean {
  return f.bitsStored === 16 && f.highBit === 15 && !f.signed && !f.invert && slopeOf(f) > 0;
}

const lutCache = new Map<string, Uint16Array>();

/** A table from every raw 8- or 16-bit word to its scaled value (cached per format). */
function lookupTable(f: StoredFormat, swapBytes: boolean): Uint16Array {
  const key = JSON.stringify([f, swapBytes]);
  const cached = lutCache.get(key);
  if (cached) return cached;
  const size = f.bitsAllocated === 8 ? 256 : 65536;
  const lut = new Uint16Array(size);
  const map = sampleMapper(f, swapBytes);
  for (let i = 0; i < size; i++) lut[i] = map(i);
  if (lutCache.size >= 16) lutCache.clear();
  lutCache.set(key, lut);
  return lut;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * `words` as 32-bit reads, two words each, for loops through a 65536-entry table (here and in
 * gray.ts: about twice as fast as one word at a time); undefined on a big-endian machine.
 * `skew` 0: read k holds words (2k, 2k + 1). `skew` 1, for a view starting 2 bytes past a word
 * boundary (where DICOM files often put the pixel data): read k holds words (2k + 1, 2k + 2), and
 * word 0 comes alone.
 */
export function wordReads(words: Uint16Array): { reads: Uint32Array; skew: 0 | 1 } | undefined {
  if (!LITTLE_ENDIAN) return undefined;
  const skew = words.byteOffset % 4 === 0 ? 0 : 1;
  return { reads: new Uint32Array(words.buffer, words.byteOffset + 2 * skew, Math.max(0, words.length - skew) >> 1), skew };
}

/** `lut[words[i]]` for every word, written two per 32-bit store. */
function lookUpWords(words: Uint16Array, lut: Uint16Array): Uint16Array {
  const n = words.length;
  const out = new Uint16Array(n);
  const pairs = new Uint32Array(out.buffer, 0, n >> 1);
  const by = wordReads(words);
  let done = 0;
  if (by?.skew === 0) {
    const { reads } = by;
    for (let i = 0; i < reads.length; i++) {
      const a = reads[i]!;
      pairs[i] = lut[a & 0xffff]! | (lut[a >>> 16]! << 16);
    }
    done = reads.length * 2;
  } else if (by?.skew === 1 && n > 0) {
    // Store i holds words (2i, 2i + 1): the first from the previous read (or word 0).
    const { reads } = by;
    let carry = words[0]!;
    for (let i = 0; i < reads.length; i++) {
      const a = reads[i]!;
      pairs[i] = lut[carry]! | (lut[a & 0xffff]! << 16);
      carry = a >>> 16;
    }
    done = reads.length * 2;
  }
  for (let i = done; i < n; i++) out[i] = lut[words[i]!]!;
  return out;
}

/**
 * Grey samples (BitsAllocated 8, 16 or 32; one sample per pixel) → scaled pixels.
 * `data` holds at least `count` samples from its start.
 */
export function scaleGrey(data: Uint8Array, count: number, f: StoredFormat, bigEndian: boolean): Uint16Array {
  if (f.bitsAllocated === 16) {
    const aligned = data.byteOffset % 2 === 0 ? data : data.slice(0, count * 2);
    const words = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
    // Unsigned 16 of 16 bits, not inverted: the scale is the stored value itself (a view on
    // the caller's bytes, not a copy: the file buffer is the decoded image's own).
    if (isIdentity(f) && !bigEndian) return words;
    return lookUpWords(words, lookupTable(f, bigEndian));
  }
  const out = new Uint16Array(count);
  if (f.bitsAllocated === 8) {
    const lut = lookupTable(f, false);
    for (let i = 0; i < count; i++) out[i] = lut[data[i]!]!;
    return out;
  }
  // 32 bits allocated: rare; mapped sample by sample.
  const map = sampleMapper(f, false);
  const view = new DataView(data.buffer, data.byteOffset, count * 4);
  for (let i = 0; i < count; i++) out[i] = map(view.getUint32(i * 4, !bigEndian));
  return out;
}

export type ColourLayout = "rgb" | "ybr-full" | "ybr-full-422" | "ybr-partial";

/**
 * Colour samples → luma in the scale. RGB uses BT.601 weights (0.299, 0.587, 0.114), which is
 * exactly the Y of YBR_FULL, so YBR data contributes its Y channel directly. `planar` is DICOM
 * PlanarConfiguration 1. "ybr-full-422" is the packed Y0 Y1 Cb Cr layout of uncompressed data;
 * "ybr-partial" has Y in 16..235 (8-bit) scaled accordingly. 8 or 16 bits allocated.
 */
export function scaleColour(
  data: Uint8Array,
  width: number,
  height: number,
  bitsAllocated: number,
  layout: ColourLayout,
  planar: boolean,
  bigEndian: boolean,
): Uint16Array {
  const count = width * height;
  const out = new Uint16Array(count);
  const wide = bitsAllocated === 16;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const sample = wide ? (i: number) => view.getUint16(i * 2, !bigEndian) : (i: number) => data[i]!;
  const toScale = wide ? 1 : 257;
  if (layout === "ybr-full-422") {
    // Pairs of pixels share Cb Cr: Y0 Y1 Cb Cr.
    for (let i = 0; i < count; i++) out[i] = sample((i >> 1) * 4 + (i & 1)) * toScale;
    return out;
  }
  const step = planar ? 1 : 3;
  const plane = planar ? count : 1;
  if (layout === "rgb") {
    for (let i = 0; i < count; i++) {
      const j = i * step;
      const y = 0.299 * sample(j) + 0.587 * sample(j + plane) + 0.114 * sample(j + 2 * plane);
      out[i] = Math.min(65535, Math.round(y * toScale));
    }
    return out;
  }
  const max = wide ? 65535 : 255;
  const [lo, hi] = layout === "ybr-partial" ? [(16 / 255) * max, (235 / 255) * max] : [0, max];
  for (let i = 0; i < count; i++) {
    const y = (sample(i * step) - lo) / (hi - lo);
    out[i] = Math.round(Math.min(1, Math.max(0, y)) * 65535);
  }
  return out;
}

/**
 * PNG, JPEG, WebP, TIFF (8 and 16 bit) and GIF through sharp: grey images keep their samples
 * (8-bit v → v × 257, 16-bit as is); colour images become BT.601 luma like DICOM RGB. EXIF
 * orientation is applied; multi-page files give their first page.
 */
import sharp, { type Metadata, type OutputInfo } from "sharp";
import type { ImageFormat } from "@xraygpt/protocol";
import type { DecodedImage } from "./decoded-image.js";
import { ImageError } from "./image-error.js";
import { checkPixelCount } from "./pixel-limit.js";
import { FULL_WINDOW, scaleColour, scaleGrey } from "./pixel-scale.js";

const GREY_8 = { bitsAllocated: 8, bitsStored: 8, highBit: 7, signed: false, slope: 1, intercept: 0, invert: false };
const GREY_16 = { ...GREY_8, bitsAllocated: 16, bitsStored: 16, highBit: 15 };

function sharpCause(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split("\n")[0]!.replace(/[^\x20-\x7e]/g, "?").slice(0, 160);
}

/** A PNG ends with its IEND chunk (length 0, "IEND", CRC AE 42 60 82); without it the file was cut short. */
function endsWithIend(bytes: Uint8Array): boolean {
  const iend = [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];
  const at = bytes.length - iend.length;
  return at >= 0 && iend.every((b, i) => bytes[at + i] === b);
}

export async function decodeRaster(bytes: Uint8Array, format: ImageFormat, file: string, maxPixels: number): Promise<DecodedImage> {
  const label = format.toUpperCase();
  if (format === "png" && !endsWithIend(bytes)) throw new ImageError(file, "corrupt or truncated PNG file (no IEND chunk at the end)");
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageError(file, `corrupt or truncated ${label} file (${sharpCause(e)})`);
  }
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  checkPixelCount(file, width, height, maxPixels);
  const wide = meta.depth !== undefined && meta.depth !== "uchar" && meta.depth !== "char";
  const grey = (meta.channels ?? 3) <= 2;
  const base = sharp(bytes, { limitInputPixels: Math.max(1, Math.floor(maxPixels)), failOn: "warning" }).autoOrient().removeAlpha();
  const pipeline = grey
    ? base.toColourspace(wide ? "grey16" : "b-w")
    : base.toColourspace(wide ? "rgb16" : "srgb");
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await pipeline.raw({ depth: wide ? "ushort" : "uchar" }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new ImageError(file, `corrupt or truncated ${label} file (${sharpCause(e)})`);
  }
  const { data, info } = raw;
  const bytesView = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const count = info.width * info.height;
  const bitsAllocated = wide ? 16 : 8;
  const pixels =
    info.channels === 1
      ? scaleGrey(bytesView, count, wide ? GREY_16 : GREY_8, false)
      : scaleColour(bytesView, info.width, info.height, bitsAllocated, "rgb", false, false);
  return {
    info: { format, width: info.width, height: info.height, bitsStored: bitsAllocated, frames: meta.pages ?? 1 },
    width: info.width,
    height: info.height,
    pixels,
    window: FULL_WINDOW,
    tags: [],
  };
}

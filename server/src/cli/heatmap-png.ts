/**
 * A saliency map as a picture: the radiograph (at its default window) with the map colour-mapped
 * (jet, from the map's minimum to its maximum) and alpha-blended over it, and a legend strip
 * below (colour bar, the range's end values, the finding and its probability).
 */
import sharp from "sharp";
import type { DecodeImageResult, Heatmap } from "@xraygpt/protocol";

/** Jet colour map, t in [0, 1] → RGB 0..255. */
export function jet(t: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(x))));
  return [c(4 * t - 3), c(4 * t - 2), c(4 * t - 1)];
}

/** The map's value at image pixel (x, y) of a width × height image (cells stretched like the model input). */
export function heatmapValueAt(map: Heatmap, x: number, y: number, width: number, height: number): number {
  const cx = Math.min(map.cols - 1, Math.floor((((x + 0.5) / width) * map.inputWidth) / map.cell));
  const cy = Math.min(map.rows - 1, Math.floor((((y + 0.5) / height) * map.inputHeight) / map.cell));
  return map.values[cy * map.cols + cx]!;
}

const LEGEND_H = 40;
const MIN_SIDE = 512;

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function writeHeatmapPng(path: string, image: DecodeImageResult, map: Heatmap, opacity = 0.45): Promise<void> {
  // Small images (e.g. 64 px thumbnails) are enlarged, pixel for pixel, to at least MIN_SIDE.
  const k = Math.max(1, Math.ceil(MIN_SIDE / Math.max(image.width, image.height)));
  const width = image.width * k, height = image.height * k;
  const px = Buffer.from(image.pixels, "base64");
  const src = new Uint16Array(px.buffer, px.byteOffset, image.width * image.height);
  const lo = image.window.center - image.window.width / 2;
  const range = map.max - map.min;
  const rgb = Buffer.alloc(width * (height + LEGEND_H) * 3, 255);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = src[Math.floor(y / k) * image.width + Math.floor(x / k)]!;
      const g = 255 * Math.min(1, Math.max(0, (v - lo) / image.window.width));
      const t = range > 1e-9 ? (heatmapValueAt(map, x, y, width, height) - map.min) / range : 0.5;
      const c = jet(t);
      for (let k = 0; k < 3; k++) rgb[i * 3 + k] = Math.round((1 - opacity) * g + opacity * c[k]!);
    }
  // Legend: a colour bar over the middle half of the strip.
  const x0 = Math.round(width * 0.25), x1 = Math.round(width * 0.75);
  for (let y = height + 6; y < height + 18; y++)
    for (let x = x0; x < x1; x++) rgb.set(jet((x - x0) / Math.max(1, x1 - x0 - 1)), (y * width + x) * 3);
  const font = Math.max(8, Math.min(14, Math.round(width / 40)));
  const text = (x: number, anchor: string, s: string, y = height + 34) => `<text x="${x}" y="${y}" font-size="${font}" font-family="sans-serif" text-anchor="${anchor}">${escapeXml(s)}</text>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + LEGEND_H}">${text(x0 - 4, "end", map.min.toFixed(3), height + 17)}${text(x1 + 4, "start", map.max.toFixed(3), height + 17)}${text(Math.round(width / 2), "middle", `${map.finding} p=${map.probability.toFixed(2)}: probability drop when hidden`)}</svg>`;
  await sharp(rgb, { raw: { width, height: height + LEGEND_H, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toFile(path);
}

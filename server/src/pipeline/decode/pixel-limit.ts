import { ImageError } from "./image-error.js";

export const DEFAULT_MAX_PIXELS = 100e6;

/** Refuses an image larger than `maxPixels`, from its header, before any pixel is decoded. */
export function checkPixelCount(file: string, width: number, height: number, maxPixels: number): void {
  const pixels = width * height;
  if (pixels > maxPixels) {
    const mp = (n: number) => `${Number((n / 1e6).toPrecision(3))} megapixels`;
    throw new ImageError(file, `image is ${width}×${height} (${mp(pixels)}), more than the limit of ${mp(maxPixels)}`);
  }
}

// Window/level rendering of 16-bit grey pixels into RGBA, through a 65536-entry lookup table
// rebuilt only when the window or inversion changes. Used by viewer.js and by the benchmark.

/** Builds the LUT: uint16 value → packed little-endian RGBA (opaque grey). */
export function buildLut(center, width, invert, lut = new Uint32Array(65536)) {
  // DICOM PS3.3 C.11.2.1.2 linear VOI function, scaled to 0..255.
  const w = Math.max(2, width) - 1;
  const c = center - 0.5;
  for (let v = 0; v < 65536; v++) {
    let g = ((v - c) / w + 0.5) * 255;
    g = g < 0 ? 0 : g > 255 ? 255 : g | 0;
    if (invert) g = 255 - g;
    lut[v] = 0xff000000 | (g << 16) | (g << 8) | g;
  }
  return lut;
}

/** Maps pixels through the LUT into `out` (a Uint32Array view of ImageData). */
export function applyLut(pixels, lut, out) {
  const n = pixels.length;
  for (let i = 0; i < n; i++) out[i] = lut[pixels[i]];
  return out;
}

/** Decodes base64 little-endian uint16 pixels. */
export function decodePixels(base64) {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Uint16Array(bytes.buffer, 0, bytes.length >> 1);
}

/** A renderer bound to a canvas: set the image once, then render(center, width, invert) per frame. */
export function createRenderer(canvas) {
  const ctx = canvas.getContext("2d", { alpha: false });
  let image, out, pixels;
  const lut = new Uint32Array(65536);
  return {
    setImage(px, width, height) {
      canvas.width = width;
      canvas.height = height;
      pixels = px;
      image = ctx.createImageData(width, height);
      out = new Uint32Array(image.data.buffer);
    },
    render(center, width, invert) {
      if (!image) return;
      buildLut(center, width, invert, lut);
      applyLut(pixels, lut, out);
      ctx.putImageData(image, 0, 0);
    },
  };
}

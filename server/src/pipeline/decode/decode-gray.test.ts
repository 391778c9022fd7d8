// toGray (linear window, clamp), toGrayBytes and downscale (area average) on hand-made decoded images.
import { test } from "node:test";
import assert from "node:assert/strict";
import { downscale, toGray, toGrayBytes, type DecodedImage } from "./index.js";
import { quantize } from "../preprocess.js";

function image(width: number, height: number, pixels: Uint16Array, window = { center: 32767.5, width: 65535 }): DecodedImage {
  return { info: { format: "png", width, height, bitsStored: 16, frames: 1 }, width, height, pixels, window, tags: [] };
}

test("toGray applies a linear window and clamps", () => {
  const img = image(5, 1, Uint16Array.of(0, 1000, 2000, 3000, 65535), { center: 2000, width: 2000 });
  assert.deepEqual(Array.from(toGray(img).data), [0, 0, 0.5, 1, 1]);
  const wide = toGray(img, { center: 32767.5, width: 65535 });
  assert.deepEqual(Array.from(wide.data), [0, 1000, 2000, 3000, 65535].map((p) => Math.fround(p / 65535)));
  assert.deepEqual([wide.width, wide.height], [5, 1]);
});

test("downscale averages areas and keeps the aspect ratio", () => {
  const w = 64;
  const h = 48;
  const pixels = Uint16Array.from({ length: w * h }, (_, i) => ((i % w) * 1000 + Math.floor(i / w) * 7) % 65536);
  const small = downscale(image(w, h, pixels), 32);
  assert.deepEqual([small.width, small.height], [32, 24]);
  for (let y = 0; y < 24; y++) {
    for (let x = 0; x < 32; x++) {
      const at = (dx: number, dy: number) => pixels[(2 * y + dy) * w + 2 * x + dx]!;
      const mean = (at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1)) / 4;
      assert.ok(Math.abs(small.pixels[y * 32 + x]! - mean) <= 0.5 + 1e-9, `(${x}, ${y})`);
    }
  }
  assert.equal(small.info.width, w, "info still describes the source");
  const odd = downscale(image(w, h, new Uint16Array(w * h).fill(4321)), 40);
  assert.deepEqual([odd.width, odd.height], [40, 30]);
  assert.ok(odd.pixels.every((p) => p === 4321));
});

test("downscale is a no-op for an image already small enough", () => {
  const img = image(4, 3, new Uint16Array(12).fill(9));
  assert.equal(downscale(img, 4), img);
  assert.equal(downscale(img, 100), img);
});

test("toGrayBytes gives quantize(toGray) for pixel views at any even byte offset and of any length", () => {
  const window = { center: 30000.5, width: 21000 };
  const buffer = new ArrayBuffer(2 * 1100);
  const all = new Uint16Array(buffer);
  for (let i = 0; i < all.length; i++) all[i] = (i * 40503 + (i >> 3) * 977) % 65536;
  for (const offset of [0, 1, 2, 3]) {
    for (const length of [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 16, 17, 1001]) {
      const pixels = new Uint16Array(buffer, offset * 2, length);
      const img = image(length, 1, pixels, window);
      assert.deepEqual(toGrayBytes(img).data, quantize(toGray(img)).data, `view at byte ${offset * 2}, ${length} pixels`);
    }
  }
});

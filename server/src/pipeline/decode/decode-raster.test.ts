// PNG, TIFF, WebP, JPEG (8 and 16 bit, grey and colour) written by sharp from a synthetic image.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp, { type Sharp } from "sharp";
import type { ImageFormat } from "@xraygpt/protocol";
import { decodeImage, toGray } from "./index.js";
import { fixtureDir, syntheticGrey, syntheticRgb } from "../../testing/dicom-fixtures.js";

const W = 64;
const H = 48;
const fixtures = fixtureDir();
after(() => fixtures.remove());

const grey16 = syntheticGrey(W, H, 65535);
const grey8 = Uint8Array.from(syntheticGrey(W, H, 255));
const rgb = syntheticRgb(W, H);

async function write(name: string, image: Sharp): Promise<string> {
  const file = join(fixtures.dir, name);
  writeFileSync(file, await image.toBuffer());
  return file;
}

const raw16 = () => sharp(grey16, { raw: { width: W, height: H, channels: 1 } }).toColourspace("grey16");
const raw8 = () => sharp(grey8, { raw: { width: W, height: H, channels: 1 } }).toColourspace("b-w");
const rawRgb = () => sharp(rgb, { raw: { width: W, height: H, channels: 3 } });

const cases: { name: string; format: ImageFormat; bits: number; make: () => Sharp }[] = [
  { name: "grey8.png", format: "png", bits: 8, make: () => raw8().png() },
  { name: "grey16.png", format: "png", bits: 16, make: () => raw16().png() },
  { name: "grey8.tif", format: "tiff", bits: 8, make: () => raw8().tiff({ compression: "lzw" }) },
  { name: "grey16.tif", format: "tiff", bits: 16, make: () => raw16().tiff({ compression: "deflate" }) },
  { name: "grey8.webp", format: "webp", bits: 8, make: () => raw8().webp({ lossless: true }) },
];

for (const c of cases) {
  test(`${c.bits}-bit grey ${c.format.toUpperCase()} decodes exactly`, async () => {
    const file = await write(c.name, c.make());
    const meta = await sharp(file).metadata();
    assert.equal(meta.depth, c.bits === 16 ? "ushort" : "uchar", "the fixture has the intended depth");
    const img = await decodeImage(file);
    assert.deepEqual(img.info, { format: c.format, width: W, height: H, bitsStored: c.bits, frames: 1 });
    assert.deepEqual(img.pixels, c.bits === 16 ? grey16 : Uint16Array.from(grey8, (v) => v * 257));
    assert.deepEqual(img.window, { center: 32767.5, width: 65535 });
    assert.deepEqual(img.tags, []);
    if (c.bits === 8) {
      // The full-range window hands preprocess exactly the 8-bit source (round(g × 255) = v).
      const gray = toGray(img);
      assert.ok(gray.data.every((g, i) => Math.round(g * 255) === grey8[i]));
    }
  });
}

function lumaOf(pixels: Uint8Array): Uint16Array {
  return Uint16Array.from({ length: W * H }, (_, i) =>
    Math.round((0.299 * pixels[i * 3]! + 0.587 * pixels[i * 3 + 1]! + 0.114 * pixels[i * 3 + 2]!) * 257),
  );
}

test("RGB PNG (with alpha) becomes BT.601 luma exactly", async () => {
  const rgba = new Uint8Array(W * H * 4);
  for (let i = 0; i < W * H; i++) rgba.set([rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!, 255], i * 4);
  const file = await write("rgba.png", sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png());
  const img = await decodeImage(file);
  assert.deepEqual(img.pixels, lumaOf(rgb));
  assert.equal(img.info.bitsStored, 8);
});

test("RGB TIFF and lossless WebP become luma exactly", async () => {
  for (const [name, image] of [
    ["rgb.tif", rawRgb().tiff({ compression: "lzw" })],
    ["rgb.webp", rawRgb().webp({ lossless: true })],
  ] as const) {
    const img = await decodeImage(await write(name, image));
    assert.deepEqual(img.pixels, lumaOf(rgb), name);
  }
});

test("JPEG (grey and colour) is close to the source", async () => {
  for (const [name, image, expected] of [
    ["grey.jpg", raw8().jpeg({ quality: 95 }), Uint16Array.from(grey8, (v) => v * 257)],
    ["rgb.jpg", rawRgb().jpeg({ quality: 95 }), lumaOf(rgb)],
  ] as const) {
    const img = await decodeImage(await write(name, image));
    assert.equal(img.info.format, "jpeg");
    let sum = 0;
    for (let i = 0; i < expected.length; i++) sum += Math.abs(img.pixels[i]! - expected[i]!) / 257;
    assert.ok(sum / expected.length < 3, `${name}: mean error ${(sum / expected.length).toFixed(2)} of 255`);
  }
});

test("EXIF orientation is applied", async () => {
  const file = await write("rotated.jpg", raw8().jpeg({ quality: 95 }).withMetadata({ orientation: 6 }));
  const img = await decodeImage(file);
  assert.deepEqual([img.width, img.height, img.info.width, img.info.height], [H, W, H, W]);
});

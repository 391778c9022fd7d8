// DICOM pixel semantics: Modality LUT, VOI windows, signed pixels, BitsStored masking,
// MONOCHROME1, multi-frame, colour (RGB, planar, YBR), and patient data kept out of info.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage, redactedTags, toGray } from "./index.js";
import {
  FIXTURE_PHI,
  FIXTURE_UIDS,
  convertDicom,
  expectedGrey,
  fixtureDir,
  missingTools,
  syntheticGrey,
  syntheticRgb,
  writeDicom,
  type DicomFixture,
  type FixtureSyntax,
} from "../../testing/dicom-fixtures.js";

const W = 64;
const H = 48;
const fixtures = fixtureDir();
after(() => fixtures.remove());
let serial = 0;

/** Writes the fixture, converts it to `syntax` and decodes it. */
async function decodeAs(f: DicomFixture, syntax: FixtureSyntax = "explicit") {
  const src = join(fixtures.dir, `src-${++serial}.dcm`);
  writeDicom(src, f);
  const file = join(fixtures.dir, `out-${serial}-${syntax}.dcm`);
  await convertDicom(src, file, syntax);
  const img = await decodeImage(file);
  assert.equal(img.info.transferSyntax, FIXTURE_UIDS[syntax]);
  return img;
}

const grey12 = syntheticGrey(W, H, 4095);

/** Deterministic noise for garbage bits. */
function noise(i: number): number {
  return (Math.imul(i + 1, 2654435761) >>> 28) & 0xf;
}

describe("Modality LUT and VOI window", () => {
  test("rescale slope/intercept maps the first of several windows into the pixel scale", async () => {
    const img = await decodeAs({
      width: W, height: H, pixels: grey12, bitsStored: 12,
      rescaleSlope: 2, rescaleIntercept: -100, windowCenter: [1000, 2000], windowWidth: [500, 1000],
    });
    assert.deepEqual(img.pixels, expectedGrey(grey12, 12));
    assert.deepEqual(img.modalityRange, { min: -100, max: 4095 * 2 - 100 });
    const span = 4095 * 2;
    assert.ok(Math.abs(img.window.center - ((1000 + 100) / span) * 65535) < 1e-6);
    assert.ok(Math.abs(img.window.width - (500 / span) * 65535) < 1e-6);
    // The window applied to the pixels equals the window applied to the modality values.
    const gray = toGray(img);
    for (let i = 0; i < grey12.length; i++) {
      const m = grey12[i]! * 2 - 100;
      const g = Math.min(1, Math.max(0, (m - (1000 - 250)) / 500));
      assert.ok(Math.abs(gray.data[i]! - g) < 1e-3, `pixel ${i}: ${gray.data[i]} vs ${g}`);
    }
  });

  test("a negative slope keeps higher modality values brighter", async () => {
    const img = await decodeAs({ width: W, height: H, pixels: grey12, bitsStored: 12, rescaleSlope: -1, rescaleIntercept: 4095 });
    assert.deepEqual(img.pixels, expectedGrey(grey12, 12, false, true));
    assert.deepEqual(img.modalityRange, { min: 0, max: 4095 });
  });

  test("no window in the file gives the full range, and toGray is then p / 65535", async () => {
    const img = await decodeAs({ width: W, height: H, pixels: grey12, bitsStored: 12 });
    assert.deepEqual(img.window, { center: 32767.5, width: 65535 });
    const gray = toGray(img);
    assert.ok(gray.data.every((g, i) => Math.abs(g - img.pixels[i]! / 65535) < 1e-6));
  });
});

describe("stored value handling", () => {
  const signed = Int16Array.from(grey12, (v) => v - 2048); // -2048..2047

  for (const syntax of ["explicit", "rle", "jpeg-ls", "j2k"] as const) {
    test(`signed 12-bit pixels (PixelRepresentation 1), ${syntax}`, { skip: missingTools(syntax) }, async () => {
      const img = await decodeAs(
        {
          width: W, height: H, pixels: new Uint16Array(signed.buffer), bitsStored: 12, pixelRepresentation: 1,
          rescaleIntercept: -1024, windowCenter: [40], windowWidth: [400],
        },
        syntax,
      );
      assert.deepEqual(img.pixels, expectedGrey(signed, 12, true));
      assert.deepEqual(img.modalityRange, { min: -2048 - 1024, max: 2047 - 1024 });
      assert.ok(Math.abs(img.window.center - ((40 + 3072) / 4095) * 65535) < 1e-6);
    });
  }

  for (const syntax of ["explicit", "rle"] as const) {
    test(`BitsStored 12 of 16 with garbage in the high bits is masked, ${syntax}`, { skip: missingTools(syntax) }, async () => {
      const words = Uint16Array.from(grey12, (v, i) => v | (noise(i) << 12));
      assert.ok(words.some((w) => w > 4095), "the fixture has garbage bits");
      const img = await decodeAs({ width: W, height: H, pixels: words, bitsStored: 12 }, syntax);
      assert.deepEqual(img.pixels, expectedGrey(grey12, 12));
    });
  }

  test("signed pixels with garbage above BitsStored are sign-extended from BitsStored", async () => {
    const words = Uint16Array.from(signed, (v, i) => (v & 0xfff) | (noise(i) << 12));
    const img = await decodeAs({ width: W, height: H, pixels: words, bitsStored: 12, pixelRepresentation: 1 });
    assert.deepEqual(img.pixels, expectedGrey(signed, 12, true));
  });

  test("HighBit below BitsAllocated − 1 shifts the stored bits down", async () => {
    const words = Uint16Array.from(grey12, (v) => v << 2); // bits 2..13, HighBit 13
    const img = await decodeAs({ width: W, height: H, pixels: words, bitsStored: 12, highBit: 13 });
    assert.deepEqual(img.pixels, expectedGrey(grey12, 12));
  });

  for (const syntax of ["explicit", "jpeg-ls"] as const) {
    test(`MONOCHROME1 is inverted, window center too, ${syntax}`, { skip: missingTools(syntax) }, async () => {
      const img = await decodeAs(
        { width: W, height: H, pixels: grey12, bitsStored: 12, photometric: "MONOCHROME1", windowCenter: [1000], windowWidth: [300] },
        syntax,
      );
      assert.equal(img.info.photometric, "MONOCHROME1");
      assert.deepEqual(img.pixels, expectedGrey(grey12, 12, false, true));
      assert.ok(Math.abs(img.window.center - (65535 - (1000 / 4095) * 65535)) < 1e-6);
      // Stored 1000 − 150 is the window's bright end in MONOCHROME1.
      const i = grey12.findIndex((v) => v < 850);
      assert.equal(toGray(img).data[i], 1);
    });
  }
});

describe("multi-frame", () => {
  const frames = new Uint16Array(W * H * 3);
  frames.set(grey12, 0);
  frames.set(grey12.map((v) => 4095 - v), W * H);
  frames.fill(7, 2 * W * H);
  for (const syntax of ["explicit", "jpeg-lossless-sv1", "jpeg-ls", "rle", "j2k"] as const) {
    test(`the first of 3 frames is decoded, ${syntax}`, { skip: missingTools(syntax) }, async () => {
      const img = await decodeAs({ width: W, height: H, pixels: frames, bitsStored: 12, frames: 3 }, syntax);
      assert.equal(img.info.frames, 3);
      assert.deepEqual(img.pixels, expectedGrey(grey12, 12));
    });
  }
});

describe("colour", () => {
  const rgb = syntheticRgb(W, H);
  const luma = new Uint16Array(W * H);
  const ybr = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    const [r, g, b] = [rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!];
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    luma[i] = Math.round(y * 257);
    ybr[i * 3] = Math.round(y);
    ybr[i * 3 + 1] = Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
    ybr[i * 3 + 2] = Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
  }
  const planar = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) planar[c * W * H + i] = rgb[i * 3 + c]!;

  for (const syntax of ["explicit", "rle", "jpeg-lossless-sv1", "jpeg-ls", "j2k"] as const) {
    test(`RGB becomes BT.601 luma exactly, ${syntax}`, { skip: missingTools(syntax) }, async () => {
      const img = await decodeAs({ width: W, height: H, pixels: rgb, samplesPerPixel: 3 }, syntax);
      assert.deepEqual(img.pixels, luma);
      assert.deepEqual(img.window, { center: 32767.5, width: 65535 });
    });
  }

  for (const syntax of ["explicit", "rle"] as const) {
    test(`planar RGB (PlanarConfiguration 1), ${syntax}`, { skip: missingTools(syntax) }, async () => {
      const img = await decodeAs({ width: W, height: H, pixels: planar, samplesPerPixel: 3, planarConfiguration: 1 }, syntax);
      assert.deepEqual(img.pixels, luma);
    });
  }

  test("YBR_FULL gives its Y channel", async () => {
    const img = await decodeAs({ width: W, height: H, pixels: ybr, samplesPerPixel: 3, photometric: "YBR_FULL" });
    assert.deepEqual(img.pixels, Uint16Array.from({ length: W * H }, (_, i) => ybr[i * 3]! * 257));
  });

  test("uncompressed YBR_FULL_422 (Y0 Y1 Cb Cr) gives its Y samples", async () => {
    const packed = new Uint8Array(W * H * 2);
    for (let i = 0; i < W * H; i += 2) packed.set([ybr[i * 3]!, ybr[(i + 1) * 3]!, ybr[i * 3 + 1]!, ybr[i * 3 + 2]!], i * 2);
    const img = await decodeAs({ width: W, height: H, pixels: packed, samplesPerPixel: 3, photometric: "YBR_FULL_422" });
    assert.deepEqual(img.pixels, Uint16Array.from({ length: W * H }, (_, i) => ybr[i * 3]! * 257));
  });

  for (const syntax of ["jpeg-baseline", "jpeg-baseline-444"] as const) {
    test(`JPEG baseline colour (${syntax === "jpeg-baseline" ? "YBR_FULL_422" : "YBR_FULL"}) is close to the luma`, { skip: missingTools(syntax) }, async () => {
      const img = await decodeAs({ width: W, height: H, pixels: rgb, samplesPerPixel: 3 }, syntax);
      assert.equal(img.info.photometric, syntax === "jpeg-baseline" ? "YBR_FULL_422" : "YBR_FULL");
      let sum = 0;
      for (let i = 0; i < luma.length; i++) sum += Math.abs(img.pixels[i]! - luma[i]!) / 257;
      assert.ok(sum / luma.length < 3, `mean luma error ${(sum / luma.length).toFixed(2)} of 255`);
    });
  }
});

describe("patient data", () => {
  const phiValues = Object.values(FIXTURE_PHI).filter((v) => v.length >= 4);

  test("never reaches info; tags carry it flagged, and redactedTags hides it", async () => {
    const img = await decodeAs({ width: W, height: H, pixels: grey12, bitsStored: 12 });
    const info = JSON.stringify(img.info);
    for (const v of phiValues) assert.ok(!info.includes(v), `info leaks ${v}`);
    const byName = new Map(img.tags.map((t) => [t.name, t]));
    assert.deepEqual(byName.get("PatientName"), { tag: "(0010,0010)", name: "PatientName", value: "DOE^JANE", patientIdentifying: true });
    for (const name of ["PatientID", "PatientBirthDate", "AccessionNumber", "InstitutionName", "ReferringPhysicianName", "StudyID", "StudyDate"]) {
      assert.equal(byName.get(name)?.patientIdentifying, true, name);
    }
    assert.deepEqual(byName.get("Rows"), { tag: "(0028,0010)", name: "Rows", value: "48", patientIdentifying: false });
    assert.equal(byName.get("Modality")?.value, "DX");
    const hidden = JSON.stringify(redactedTags(img.tags, false));
    for (const v of phiValues) assert.ok(!hidden.includes(v), `redacted tags leak ${v}`);
    assert.ok(JSON.stringify(redactedTags(img.tags, true)).includes("DOE^JANE"));
    assert.equal(redactedTags(img.tags, false).length, img.tags.length);
  });
});

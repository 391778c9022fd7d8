// Bad input: every case gives an ImageError naming the file and the specific cause, and no
// error message ever carries the fixture's patient data.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import sharp from "sharp";
import { ImageError, decodeImage, decodeImageBuffer } from "./index.js";
import { FIXTURE_PHI, convertDicom, fixtureDir, missingTools, syntheticGrey, writeDicom } from "../../testing/dicom-fixtures.js";

const W = 64;
const H = 48;
const fixtures = fixtureDir();
after(() => fixtures.remove());
const { at } = fixtures;
const grey12 = syntheticGrey(W, H, 4095);
const phi = Object.values(FIXTURE_PHI).filter((v) => v.length >= 4);

/** Asserts the promise rejects with an ImageError for `file` whose message matches `cause`. */
async function rejects(promise: Promise<unknown>, file: string, cause: RegExp, kind = "BadImage"): Promise<ImageError> {
  const err = await promise.then(
    () => assert.fail(`expected an error for ${file}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ImageError, `not an ImageError: ${String(err)}`);
  assert.equal(err.kind, kind);
  assert.equal(err.file, file);
  assert.ok(err.message.startsWith(`${file}: `), err.message);
  assert.match(err.message, cause);
  for (const v of phi) assert.ok(!err.message.includes(v), `message leaks ${v}: ${err.message}`);
  return err;
}

before(() => {
  writeDicom(at("ok.dcm"), { width: W, height: H, pixels: grey12, bitsStored: 12 });
});

describe("files", () => {
  test("file not found", async () => {
    await rejects(decodeImage(at("missing.dcm")), at("missing.dcm"), /file not found/);
  });

  test("zero bytes", async () => {
    writeFileSync(at("empty.png"), "");
    await rejects(decodeImage(at("empty.png")), at("empty.png"), /empty file \(0 bytes\)/);
  });

  test("a directory", async () => {
    await rejects(decodeImage(fixtures.dir), fixtures.dir, /is a directory/);
  });

  test("not an image", async () => {
    writeFileSync(at("notes.dcm"), "Patient notes, not an image at all.\n");
    await rejects(decodeImage(at("notes.dcm")), at("notes.dcm"), /not an image \(unknown format\)/);
    const random = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251);
    await rejects(decodeImageBuffer(random, "noise.bin"), "noise.bin", /not an image \(unknown format\)/);
  });

  test("a data set without pixel data is not an image", async () => {
    writeDicom(at("no-pixels.dcm"), { width: W, height: H, pixels: grey12, omitPixelData: true });
    await rejects(decodeImage(at("no-pixels.dcm")), at("no-pixels.dcm"), /no pixel data/);
  });
});

describe("truncated and corrupt", () => {
  test("truncated uncompressed DICOM", async () => {
    const bytes = readFileSync(at("ok.dcm"));
    writeFileSync(at("cut.dcm"), bytes.subarray(0, bytes.length - 1000));
    await rejects(decodeImage(at("cut.dcm")), at("cut.dcm"), /truncated/);
  });

  test("DICOM cut inside its header", async () => {
    writeFileSync(at("cut-header.dcm"), readFileSync(at("ok.dcm")).subarray(0, 300));
    await rejects(decodeImage(at("cut-header.dcm")), at("cut-header.dcm"), /corrupt or truncated DICOM|truncated/);
  });

  test("truncated and corrupt compressed DICOM", { skip: missingTools("jpeg-ls") }, async () => {
    await convertDicom(at("ok.dcm"), at("ls.dcm"), "jpeg-ls");
    const bytes = readFileSync(at("ls.dcm"));
    writeFileSync(at("ls-cut.dcm"), bytes.subarray(0, bytes.length - 500));
    await rejects(decodeImage(at("ls-cut.dcm")), at("ls-cut.dcm"), /truncated|corrupt/);
    // Overwrite the JPEG-LS start-of-image marker and header of the frame with zeros.
    const soi = bytes.indexOf(Buffer.from([0xff, 0xd8, 0xff]));
    assert.ok(soi > 0);
    const broken = Buffer.from(bytes);
    broken.fill(0, soi, soi + 40);
    writeFileSync(at("ls-bad.dcm"), broken);
    await rejects(decodeImage(at("ls-bad.dcm")), at("ls-bad.dcm"), /corrupt JPEG-LS Lossless pixel data/);
  });

  test("truncated PNG", async () => {
    const png = await sharp(Buffer.from(Uint8Array.from(grey12, (v) => v >> 4)), { raw: { width: W, height: H, channels: 1 } }).png().toBuffer();
    writeFileSync(at("cut.png"), png.subarray(0, Math.floor(png.length / 2)));
    await rejects(decodeImage(at("cut.png")), at("cut.png"), /corrupt or truncated PNG/);
  });
});

describe("transfer syntax", () => {
  for (const [uid, name] of [
    ["1.2.840.10008.1.2.4.94", /unsupported transfer syntax 1\.2\.840\.10008\.1\.2\.4\.94 \(JPIP Referenced\)/],
    ["1.2.3.4.5.6.7.8.9.10.1", /unsupported transfer syntax 1\.2\.3\.4\.5\.6\.7\.8\.9\.10\.1$/],
  ] as const) {
    test(`unsupported ${uid} is named`, { skip: missingTools("jpeg-baseline") }, async () => {
      writeDicom(at("grey8.dcm"), { width: W, height: H, pixels: Uint8Array.from(grey12, (v) => v >> 4) });
      await convertDicom(at("grey8.dcm"), at("baseline.dcm"), "jpeg-baseline");
      const bytes = readFileSync(at("baseline.dcm"));
      const from = Buffer.from("1.2.840.10008.1.2.4.50");
      assert.equal(uid.length, from.length, "same-length UID keeps the meta header valid");
      const pos = bytes.indexOf(from);
      assert.ok(pos > 0);
      Buffer.from(uid).copy(bytes, pos);
      const file = at(`ts-${uid}.dcm`);
      writeFileSync(file, bytes);
      await rejects(decodeImage(file), file, name);
    });
  }
});

describe("size limit", () => {
  test("more than maxPixels", async () => {
    await rejects(decodeImage(at("ok.dcm"), { maxPixels: 1000 }), at("ok.dcm"), /64×48 \(0\.00307 megapixels\), more than the limit of 0\.001 megapixels/);
  });

  test("a DICOM header claiming 400 megapixels is refused before its pixels are read", async () => {
    writeDicom(at("huge.dcm"), { width: 20000, height: 20000, pixels: grey12, bitsStored: 12 });
    await rejects(decodeImage(at("huge.dcm")), at("huge.dcm"), /20000×20000 \(400 megapixels\), more than the limit of 100 megapixels/);
  });

  test("a PNG header claiming 400 megapixels is refused before decoding", async () => {
    const png = Buffer.from(await sharp(Buffer.from(Uint8Array.from(grey12, (v) => v >> 4)), { raw: { width: W, height: H, channels: 1 } }).png().toBuffer());
    // IHDR: length(4) "IHDR"(4) width(4) height(4) ... then CRC over type + data (17 bytes).
    png.writeUInt32BE(20000, 16);
    png.writeUInt32BE(20000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    writeFileSync(at("huge.png"), png);
    await rejects(decodeImage(at("huge.png")), at("huge.png"), /20000×20000 \(400 megapixels\), more than the limit/);
  });
});

describe("pixel format", () => {
  test("PALETTE COLOR is refused by name", async () => {
    writeDicom(at("palette.dcm"), { width: W, height: H, pixels: Uint8Array.from(grey12, (v) => v >> 4), photometric: "PALETTE COLOR" });
    await rejects(decodeImage(at("palette.dcm")), at("palette.dcm"), /unsupported photometric interpretation PALETTE COLOR/);
  });
});

describe("allowed roots", () => {
  const root = at("root");
  const outside = at("outside");
  before(() => {
    mkdirSync(root);
    mkdirSync(outside);
    writeDicom(join(root, "in.dcm"), { width: W, height: H, pixels: grey12, bitsStored: 12 });
    writeDicom(join(outside, "out.dcm"), { width: W, height: H, pixels: grey12, bitsStored: 12 });
    symlinkSync(join(outside, "out.dcm"), join(root, "link-out.dcm"));
    symlinkSync(join(root, "in.dcm"), join(root, "link-in.dcm"));
  });

  test("files inside, directly or through a symlink that stays inside, decode", async () => {
    for (const name of ["in.dcm", "link-in.dcm"]) {
      const img = await decodeImage(join(root, name), { allowedRoots: [root] });
      assert.equal(img.width, W);
    }
  });

  test("a file outside, a symlink leading outside, and ../ are refused", async () => {
    for (const file of [join(outside, "out.dcm"), join(root, "link-out.dcm"), `${root}/../outside/out.dcm`, join(outside, "nothing.dcm")]) {
      await rejects(decodeImage(file, { allowedRoots: [root] }), file, /path is outside the allowed folders/, "PathNotAllowed");
    }
  });

  test("a missing file inside a root is 'not found'", async () => {
    await rejects(decodeImage(join(root, "nothing.dcm"), { allowedRoots: [root] }), join(root, "nothing.dcm"), /file not found/);
  });
});

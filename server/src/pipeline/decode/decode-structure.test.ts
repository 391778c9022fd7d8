// Structural validation (issue 14): corrupt RLE, header lies and cut-short code streams are
// errors, never pixels; errors never echo free-text values; every date, comment and device
// identifier is flagged patient-identifying (so the daemon's decodeImage hides it by default).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImageError, decodeImage, redactedTags } from "./index.js";
import { convertDicom, fixtureDir, missingTools, syntheticGrey, writeDicom } from "../../testing/dicom-fixtures.js";

const require = createRequire(import.meta.url);
const dicomParser = require("dicom-parser") as typeof import("dicom-parser");

const W = 64;
const H = 48;
const fixtures = fixtureDir();
after(() => fixtures.remove());
const { at } = fixtures;
const grey12 = syntheticGrey(W, H, 4095);

async function fails(name: string, bytes: Uint8Array, cause: RegExp): Promise<ImageError> {
  writeFileSync(at(name), bytes);
  const err = await decodeImage(at(name)).then(
    (img) => assert.fail(`${name}: decoded to ${img.width}×${img.height} pixels, expected an error`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ImageError, String(err));
  assert.match(err.message, cause);
  return err;
}

/** Byte offset of the first pixel data fragment's value in a Part 10 file. */
function firstFragment(bytes: Buffer): { position: number; length: number } {
  const ds = dicomParser.parseDicom(bytes);
  const f = ds.elements.x7fe00010!.fragments![0]!;
  return { position: f.position, length: f.length };
}

/** Replaces the transfer syntax UID in the meta header by one of the same padded length. */
function relabel(bytes: Buffer, from: string, to: string): Buffer {
  const out = Buffer.from(bytes);
  const at = out.indexOf(Buffer.from(from));
  assert.ok(at > 0 && to.length <= from.length);
  out.fill(0, at, at + from.length);
  out.write(to, at, "latin1");
  return out;
}

before(() => writeDicom(at("ok.dcm"), { width: W, height: H, pixels: grey12, bitsStored: 12, extra: { ImageLaterality: "R" } }));

describe("RLE", { skip: missingTools("rle") }, () => {
  let rle: Buffer;
  let frag: { position: number; length: number };
  before(async () => {
    await convertDicom(at("ok.dcm"), at("rle.dcm"), "rle");
    rle = readFileSync(at("rle.dcm"));
    frag = firstFragment(rle);
    const img = await decodeImage(at("rle.dcm"));
    assert.equal(img.width, W); // the untouched file decodes
  });

  test("a segment count that does not match SamplesPerPixel × BitsAllocated / 8", async () => {
    const b = Buffer.from(rle);
    b.writeUInt32LE(9, frag.position);
    await fails("rle-count.dcm", b, /RLE header declares 9 segments/);
  });

  test("a first offset that does not follow the header, and one past the fragment", async () => {
    const b = Buffer.from(rle);
    b.writeUInt32LE(60, frag.position + 4);
    await fails("rle-offset.dcm", b, /RLE segment 1 starts at byte 60/);
    const c = Buffer.from(rle);
    c.writeUInt32LE(frag.length + 1000, frag.position + 8);
    await fails("rle-offset2.dcm", c, /RLE segment 2 starts at byte .* past the end|not increasing/);
  });

  test("garbage segments (no-op bytes) decode to too few bytes: an error, not a black image", async () => {
    const b = Buffer.from(rle);
    b.fill(0x80, frag.position + 64, frag.position + frag.length);
    await fails("rle-garbage.dcm", b, /RLE segment 1 ends after 0 of 3072 bytes/);
  });

  test("a run that overshoots Rows × Columns", async () => {
    const b = Buffer.from(rle);
    const second = b.readUInt32LE(frag.position + 8);
    // Make segment 1 one long repeat run after another: 127 bytes each, which passes 3072 mid-run.
    for (let p = frag.position + 64; p + 1 < frag.position + second; p += 2) b[p] = 0x82;
    await fails("rle-overshoot.dcm", b, /RLE segment 1 (decodes to \d+ bytes, expected 3072|ends after)/);
  });

  test("a JPEG file relabelled as RLE", { skip: missingTools("jpeg-baseline") }, async () => {
    writeDicom(at("ok8.dcm"), { width: W, height: H, pixels: Uint8Array.from(grey12, (v) => v >> 4) });
    await convertDicom(at("ok8.dcm"), at("jpeg.dcm"), "jpeg-baseline");
    const b = relabel(readFileSync(at("jpeg.dcm")), "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.5");
    await fails("jpeg-as-rle.dcm", b, /RLE/);
  });
});

describe("header lies", () => {
  test("NumberOfFrames -5, 0 or text is an error", async () => {
    for (const frames of ["-5", "0", "two"]) {
      writeDicom(at("f.dcm"), { width: W, height: H, pixels: grey12, bitsStored: 12, extra: { NumberOfFrames: frames } });
      await fails(`frames${frames}.dcm`, readFileSync(at("f.dcm")), /invalid NumberOfFrames/);
    }
  });

  test("more frames than the pixel data holds", async () => {
    writeDicom(at("f3.dcm"), { width: W, height: H, pixels: grey12, bitsStored: 12, frames: 3 });
    await fails("frames3.dcm", readFileSync(at("f3.dcm")), /NumberOfFrames 3/);
  });

  test("a JPEG-LS frame cut before its end marker", { skip: missingTools("jpeg-ls") }, async () => {
    await convertDicom(at("ok.dcm"), at("ls.dcm"), "jpeg-ls");
    const b = readFileSync(at("ls.dcm"));
    const frag = firstFragment(b);
    const cut = Buffer.from(b);
    // Keep the lengths (the file still parses), but overwrite the end marker and the last bytes.
    cut.fill(0x11, frag.position + frag.length - 8, frag.position + frag.length);
    await fails("ls-noeoi.dcm", cut, /end-of-image marker/);
  });
});

describe("patient data in errors and tags", () => {
  test("a non-standard photometric interpretation is not quoted", async () => {
    writeDicom(at("p.dcm"), { width: W, height: H, pixels: grey12, bitsStored: 12, photometric: "ZZPHIPHOTO" });
    const err = await fails("photo.dcm", readFileSync(at("p.dcm")), /unsupported photometric interpretation \(not a standard value\)/);
    assert.ok(!err.message.includes("ZZPHI"), err.message);
  });

  test("free-text modality, view, laterality and body part values never reach info", async () => {
    writeDicom(at("m.dcm"), { width: W, height: H, pixels: grey12, bitsStored: 12, extra: { Modality: "PHIMARKER", ViewPosition: "PHIVIEW", ImageLaterality: "R", BodyPartExamined: "PHIPART" } });
    const img = await decodeImage(at("m.dcm"));
    const info = JSON.stringify(img.info);
    assert.ok(!info.includes("PHI"), info);
    assert.equal(img.info.laterality, "R");
    assert.equal(img.info.bodyPart, undefined);
    writeDicom(at("c.dcm"), { width: W, height: H, pixels: grey12, bitsStored: 12, extra: { Modality: "CR", ViewPosition: "PA", BodyPartExamined: "chest" } });
    const chest = await decodeImage(at("c.dcm"));
    assert.deepEqual([chest.info.modality, chest.info.view, chest.info.bodyPart], ["CR", "PA", "CHEST"]);
  });

  test("dates, comments and plate/device identifiers are flagged and hidden without the opt-in", async () => {
    const marked = {
      InstanceCreationDate: "19990101",
      InstanceCreationTime: "101010",
      DateOfSecondaryCapture: "19990202",
      PlateID: "PHI-PLATE-MARK",
      DeviceSerialNumber: "PHI-SERIAL-MARK",
      AcquisitionDeviceProcessingDescription: "PHI-PROC-MARK",
      Manufacturer: "PHI-MAKER-MARK",
    };
    writeDicom(at("t.dcm"), { width: W, height: H, pixels: grey12, bitsStored: 12, extra: marked });
    const img = await decodeImage(at("t.dcm"));
    const byName = new Map(img.tags.map((t) => [t.name, t]));
    for (const name of Object.keys(marked)) assert.equal(byName.get(name)?.patientIdentifying, true, name);
    const hidden = JSON.stringify(redactedTags(img.tags, false));
    for (const v of Object.values(marked)) assert.ok(!hidden.includes(v), `redacted tags leak ${v}`);
    assert.equal(byName.get("Rows")?.patientIdentifying, false);
    assert.equal(byName.get("SOPClassUID")?.patientIdentifying, false);
    assert.equal(byName.get("SOPInstanceUID")?.patientIdentifying, true);
  });
});

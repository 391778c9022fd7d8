// Abuse suite (npm run test:abuse): ≥ 300 generated malformed inputs through the decode pool —
// truncations at many offsets, bit flips, header lies, wrong transfer syntaxes, RLE header
// damage, FIFOs, directories, devices, symlink loops — with 0 hangs (each decode has a deadline),
// 0 crashes (a dead worker is an "Internal" error) and 0 wrong successes (an input whose
// structure is invalid must be an error; a bit flip may decode, but then to a well-formed image).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import sharp from "sharp";
import { AnalysePool } from "../pipeline/analyse-pool.js";
import { convertDicom, fixtureDir, missingTools, syntheticGrey, writeDicom, type FixtureSyntax } from "../testing/dicom-fixtures.js";
import { mulberry32 } from "../util/random.js";

const require = createRequire(import.meta.url);
const dicomParser = require("dicom-parser") as typeof import("dicom-parser");

const W = 64;
const H = 48;
const fixtures = fixtureDir();
const { at } = fixtures;
const pool = new AnalysePool(2, { timeoutMs: 15_000 });
after(async () => {
  await pool.close();
  fixtures.remove();
});

/** must: "error" (structure invalid), "any" (may decode, then to a well-formed image). */
interface Case {
  name: string;
  path: string;
  must: "error" | "any";
}
const cases: Case[] = [];
const bases: { name: string; bytes: Buffer; dicom: boolean }[] = [];

function add(name: string, bytes: Uint8Array, must: Case["must"]): void {
  const path = at(`case-${cases.length}-${name.replace(/[^a-z0-9.-]/gi, "_")}`);
  writeFileSync(path, bytes);
  cases.push({ name, path, must });
}

/** Same-length relabelling of the transfer syntax UID in the meta header (NUL-padded). */
function relabel(bytes: Buffer, from: string, to: string): Buffer | undefined {
  const i = bytes.indexOf(Buffer.from(from));
  if (i < 0 || to.length > from.length) return undefined;
  const out = Buffer.from(bytes);
  out.fill(0, i, i + from.length);
  out.write(to, i, "latin1");
  return out;
}

const UIDS: Record<string, string> = {
  "jpeg-baseline": "1.2.840.10008.1.2.4.50",
  "jpeg-ls": "1.2.840.10008.1.2.4.80",
  j2k: "1.2.840.10008.1.2.4.90",
  rle: "1.2.840.10008.1.2.5",
  explicit: "1.2.840.10008.1.2.1",
};

before(async () => {
  const grey12 = syntheticGrey(W, H, 4095);
  const grey8 = Uint8Array.from(grey12, (v) => v >> 4);
  writeDicom(at("base12.dcm"), { width: W, height: H, pixels: grey12, bitsStored: 12 });
  writeDicom(at("base8.dcm"), { width: W, height: H, pixels: grey8 });
  bases.push({ name: "explicit", bytes: readFileSync(at("base12.dcm")), dicom: true });
  const syntaxes: FixtureSyntax[] = ["implicit", "big-endian", "deflated", "rle", "jpeg-ls", "jpeg-lossless", "j2k"];
  for (const s of syntaxes) {
    if (missingTools(s)) continue;
    await convertDicom(at("base12.dcm"), at(`base-${s}.dcm`), s);
    bases.push({ name: s, bytes: readFileSync(at(`base-${s}.dcm`)), dicom: true });
  }
  if (!missingTools("jpeg-baseline")) {
    await convertDicom(at("base8.dcm"), at("base-jpeg-baseline.dcm"), "jpeg-baseline");
    bases.push({ name: "jpeg-baseline", bytes: readFileSync(at("base-jpeg-baseline.dcm")), dicom: true });
  }
  const raw = { raw: { width: W, height: H, channels: 1 as const } };
  bases.push({ name: "png", bytes: await sharp(Buffer.from(grey8), raw).png().toBuffer(), dicom: false });
  bases.push({ name: "jpeg", bytes: await sharp(Buffer.from(grey8), raw).jpeg().toBuffer(), dicom: false });

  const rand = mulberry32(14);
  for (const b of bases) {
    // Truncations at many offsets: every cut loses structure (pixel data, a chunk, a marker).
    const n = b.bytes.length;
    const cuts = new Set<number>([1, 8, 64, 127, 131, 200, 300, n >> 2, n >> 1, (3 * n) >> 2, n - 200, n - 64, n - 16, n - 3, n - 1]);
    for (const cut of [...cuts].filter((c) => c > 0 && c < n)) add(`${b.name}-cut${cut}`, b.bytes.subarray(0, cut), "error");
    // Bit flips anywhere: may decode (pixel values, entropy-coded data), never crash or hang.
    for (let k = 0; k < 14; k++) {
      const f = Buffer.from(b.bytes);
      const pos = Math.floor(rand() * n);
      f[pos]! ^= 1 << Math.floor(rand() * 8);
      add(`${b.name}-flip${pos}`, f, "any");
    }
    // Burst damage: 32 random bytes at random places.
    for (let k = 0; k < 4; k++) {
      const f = Buffer.from(b.bytes);
      const pos = Math.floor(rand() * (n - 32));
      for (let i = 0; i < 32; i++) f[pos + i] = Math.floor(rand() * 256);
      add(`${b.name}-burst${pos}`, f, "any");
    }
  }

  // Header lies: Rows / Columns larger than the pixel data (always needs more bytes than present).
  for (const b of bases.filter((x) => x.dicom && x.name !== "deflated" && x.name !== "big-endian")) {
    for (const [tag, value] of [["rows", H * 2], ["columns", W * 3], ["rows", 4096]] as const) {
      const f = Buffer.from(b.bytes);
      const key = tag === "rows" ? Buffer.from([0x28, 0x00, 0x10, 0x00]) : Buffer.from([0x28, 0x00, 0x11, 0x00]);
      const i = f.indexOf(key, 132);
      if (i < 0) continue;
      const valueAt = b.name === "implicit" ? i + 8 : i + 8; // explicit: tag(4) VR(2) len(2); implicit: tag(4) len(4)
      f.writeUInt16LE(value, valueAt);
      add(`${b.name}-lie-${tag}${value}`, f, "error");
    }
  }

  // Wrong syntaxes: a stream relabelled as a codec of another family.
  const families = ["jpeg-baseline", "jpeg-ls", "j2k", "rle"];
  for (const from of families) {
    const b = bases.find((x) => x.name === from);
    if (!b) continue;
    for (const to of families.filter((t) => t !== from)) {
      const f = relabel(b.bytes, UIDS[from]!, UIDS[to]!);
      if (f) add(`${from}-as-${to}`, f, "error");
    }
    const native = relabel(b.bytes, UIDS[from]!, UIDS.explicit!);
    if (native) add(`${from}-as-native`, native, "error");
  }
  const explicit = bases.find((x) => x.name === "explicit")!;
  add("native-as-rle", relabel(explicit.bytes, UIDS.explicit!, UIDS.rle!)!, "error");

  // RLE header damage: the segment count and the high bytes of offsets.
  const rle = bases.find((x) => x.name === "rle");
  if (rle) {
    const fragAt = dicomParser.parseDicom(rle.bytes).elements.x7fe00010!.fragments![0]!.position;
    for (let bit = 0; bit < 8; bit++) {
      const f = Buffer.from(rle.bytes);
      f[fragAt]! ^= 1 << bit; // segment count
      add(`rle-count-bit${bit}`, f, "error");
    }
    for (const field of [1, 2]) {
      for (const byte of [2, 3]) {
        for (const bit of [0, 4, 7]) {
          const f = Buffer.from(rle.bytes);
          f[fragAt + 4 * field + byte]! ^= 1 << bit;
          add(`rle-offset${field}-byte${byte}-bit${bit}`, f, "error");
        }
      }
    }
    add("rle-noop-segments", Buffer.from(rle.bytes).fill(0x80, fragAt + 64), "error"); // PackBits no-ops only
  }

  // Not files: FIFOs, directories, devices, symlink loops, dangling symlinks.
  execFileSync("mkfifo", [at("fifo.dcm")]);
  cases.push({ name: "fifo", path: at("fifo.dcm"), must: "error" });
  mkdirSync(at("folder.dcm"));
  cases.push({ name: "directory", path: at("folder.dcm"), must: "error" });
  cases.push({ name: "char device", path: "/dev/zero", must: "error" });
  symlinkSync(at("loop-b.dcm"), at("loop-a.dcm"));
  symlinkSync(at("loop-a.dcm"), at("loop-b.dcm"));
  cases.push({ name: "symlink loop", path: at("loop-a.dcm"), must: "error" });
  symlinkSync(at("fifo.dcm"), at("link-to-fifo.dcm"));
  cases.push({ name: "symlink to a fifo", path: at("link-to-fifo.dcm"), must: "error" });
  symlinkSync(at("nothing-there.dcm"), at("dangling.dcm"));
  cases.push({ name: "dangling symlink", path: at("dangling.dcm"), must: "error" });
  cases.push({ name: "empty", path: at("empty.dcm"), must: "error" });
  writeFileSync(at("empty.dcm"), "");
});

test("≥ 300 malformed inputs: 0 hangs, 0 crashes, 0 wrong successes; the pool keeps serving", { timeout: 170_000 }, async () => {
  assert.ok(cases.length >= 300, `only ${cases.length} cases generated`);
  const outcomes = await Promise.all(
    cases.map(async (c) => {
      try {
        const img = await pool.view(c.path, undefined);
        const wellFormed = img.pixels.length === img.width * img.height && img.width > 0 && img.height > 0;
        return { c, ok: true as const, wellFormed };
      } catch (e) {
        return { c, ok: false as const, kind: (e as { kind?: string }).kind, message: (e as Error).message };
      }
    }),
  );
  const hangs = outcomes.filter((o) => !o.ok && /took longer than/.test(o.message));
  const crashes = outcomes.filter((o) => !o.ok && (o.kind === "Internal" || o.kind === undefined));
  const wrong = outcomes.filter((o) => (o.ok && o.c.must === "error") || (o.ok && !o.wellFormed));
  const unnamed = outcomes.filter((o) => !o.ok && !o.message.startsWith(`${o.c.path}: `));
  const show = (xs: typeof outcomes) => xs.slice(0, 10).map((o) => `${o.c.name}: ${o.ok ? "decoded" : o.message}`).join("\n");
  console.log(`# abuse: ${cases.length} inputs, ${outcomes.filter((o) => !o.ok).length} errors, ${outcomes.filter((o) => o.ok).length} decoded; hangs ${hangs.length}, crashes ${crashes.length}, wrong successes ${wrong.length}`);
  assert.equal(hangs.length, 0, `hangs:\n${show(hangs)}`);
  assert.equal(crashes.length, 0, `crashes:\n${show(crashes)}`);
  assert.equal(wrong.length, 0, `wrong successes:\n${show(wrong)}`);
  assert.equal(unnamed.length, 0, `errors not naming their file:\n${show(unnamed)}`);
  // Still serving: a good file decodes after all of that.
  const good = await pool.view(at("base12.dcm"), undefined);
  assert.equal(good.width, W);
});

test("a FIFO never holds the pool: a one-worker pool serves a good file beside it", { timeout: 20_000 }, async () => {
  const one = new AnalysePool(1, { timeoutMs: 10_000 });
  try {
    const [fifo, good] = await Promise.allSettled([one.view(at("fifo.dcm"), undefined), one.view(at("base12.dcm"), undefined)]);
    assert.equal(fifo.status, "rejected");
    assert.match(String((fifo as PromiseRejectedResult).reason.message), /FIFO/);
    assert.equal(good.status, "fulfilled");
  } finally {
    await one.close();
  }
});

test("a decode past its deadline fails alone and the worker is replaced", { timeout: 20_000 }, async () => {
  const slow = new AnalysePool(1, { timeoutMs: 1 });
  try {
    await assert.rejects(slow.view(at("base12.dcm"), undefined), /decoding took longer than 0.001 s/);
  } finally {
    await slow.close();
  }
  const fresh = new AnalysePool(1, { timeoutMs: 10_000 });
  try {
    assert.equal((await fresh.view(at("base12.dcm"), undefined)).width, W);
  } finally {
    await fresh.close();
  }
});

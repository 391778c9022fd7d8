// Every DICOM transfer syntax the decoder reads, made by the real tools from a synthetic image,
// decoded and compared with the source samples (exactly for lossless syntaxes).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage } from "./index.js";
import {
  FIXTURE_UIDS,
  convertDicom,
  expectedGrey,
  fixtureDir,
  missingTools,
  syntheticGrey,
  writeDicom,
  type FixtureSyntax,
} from "../../testing/dicom-fixtures.js";

const W = 64;
const H = 48;
const fixtures = fixtureDir();
after(() => fixtures.remove());

/** Decoded grey back in stored units (the documented linear scale inverted; exact for integers). */
function toStored(pixels: Uint16Array, bits: number): Float64Array {
  const max = 2 ** bits - 1;
  return Float64Array.from(pixels, (p) => Math.round((p / 65535) * max));
}

function errors(decoded: Uint16Array, source: Uint16Array, bits: number): { mean: number; max: number } {
  const back = toStored(decoded, bits);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < source.length; i++) {
    const e = Math.abs(back[i]! - source[i]!);
    sum += e;
    max = Math.max(max, e);
  }
  return { mean: sum / source.length, max };
}

interface Case {
  syntax: FixtureSyntax;
  /** "exact", or the largest error allowed in stored units (max, and mean as a fraction of range). */
  check: "exact" | { max: number; meanFraction: number };
}

const LOSSLESS: FixtureSyntax[] = [
  "implicit",
  "explicit",
  "big-endian",
  "deflated",
  "raw-dataset",
  "no-preamble",
  "jpeg-lossless",
  "jpeg-lossless-sv1",
  "jpeg-ls",
  "rle",
  "j2k",
  "htj2k",
];

const SOURCES: { bits: 8 | 12 | 16; cases: Case[] }[] = [
  {
    bits: 12,
    cases: [
      ...LOSSLESS.map((syntax): Case => ({ syntax, check: "exact" })),
      { syntax: "jpeg-extended", check: { max: 400, meanFraction: 0.01 } },
      { syntax: "jpeg-ls-near", check: { max: 2, meanFraction: 0.001 } }, // NEAR=2 bounds every error
      { syntax: "j2k-lossy", check: { max: 400, meanFraction: 0.01 } },
      { syntax: "htj2k-lossy", check: { max: 400, meanFraction: 0.01 } },
    ],
  },
  {
    bits: 8,
    cases: [
      ...(["explicit", "implicit", "jpeg-lossless-sv1", "jpeg-ls", "rle", "j2k"] as const).map((syntax): Case => ({ syntax, check: "exact" })),
      { syntax: "jpeg-baseline", check: { max: 40, meanFraction: 0.01 } },
    ],
  },
  {
    bits: 16,
    cases: (["explicit", "big-endian", "jpeg-lossless-sv1", "jpeg-ls", "rle", "j2k", "htj2k"] as const).map(
      (syntax): Case => ({ syntax, check: "exact" }),
    ),
  },
];

for (const { bits, cases } of SOURCES) {
  describe(`${bits}-bit grey source`, () => {
    const source = syntheticGrey(W, H, 2 ** bits - 1);
    const src = join(fixtures.dir, `grey${bits}.dcm`);
    before(() => {
      const pixels = bits === 8 ? Uint8Array.from(source) : source;
      writeDicom(src, { width: W, height: H, pixels, bitsStored: bits, extra: { ViewPosition: "PA", ImageLaterality: "R" } });
    });

    for (const { syntax, check } of cases) {
      test(`${syntax} decodes to the source pixels${check === "exact" ? " exactly" : " within the lossy tolerance"}`, { skip: missingTools(syntax) }, async () => {
        const file = join(fixtures.dir, `grey${bits}-${syntax}.dcm`);
        await convertDicom(src, file, syntax);
        const img = await decodeImage(file);
        assert.equal(img.info.transferSyntax, FIXTURE_UIDS[syntax]);
        assert.equal(img.info.format, "dicom");
        assert.deepEqual([img.width, img.height, img.info.width, img.info.height], [W, H, W, H]);
        assert.equal(img.info.bitsStored, bits);
        assert.equal(img.info.view, "PA");
        assert.equal(img.info.laterality, "R");
        assert.equal(img.info.modality, "DX");
        if (check === "exact") {
          assert.deepEqual(img.pixels, expectedGrey(source, bits));
        } else {
          const e = errors(img.pixels, source, bits);
          assert.ok(e.max <= check.max, `max error ${e.max.toFixed(2)} > ${check.max} stored units`);
          assert.ok(e.mean <= check.meanFraction * (2 ** bits - 1), `mean error ${e.mean.toFixed(3)} too large`);
          assert.ok(e.max > 0 || syntax === "jpeg-ls-near", "a lossy syntax changed nothing: was it really lossy?");
        }
      });
    }
  });
}

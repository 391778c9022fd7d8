// scaleGrey's table path on word views at either 32-bit alignment and of any length.
import { test } from "node:test";
import assert from "node:assert/strict";
import { scaleGrey, type StoredFormat } from "./pixel-scale.js";

const MONO1_12: StoredFormat = { bitsAllocated: 16, bitsStored: 12, highBit: 11, signed: false, slope: 1, intercept: 0, invert: true };
const MONO2_16: StoredFormat = { ...MONO1_12, bitsStored: 16, highBit: 15, invert: false };

test("scaleGrey maps every word through its table for views at any even byte offset and of any length", () => {
  const bytes = new Uint8Array(2 * 1100);
  const words = new Uint16Array(bytes.buffer);
  for (let i = 0; i < words.length; i++) words[i] = (i * 40503 + (i >> 3) * 977) % 65536;
  const cases: Array<[StoredFormat, boolean, (w: number) => number]> = [
    [MONO1_12, false, (w) => 65535 - Math.round(((w & 0xfff) * 65535) / 4095)],
    [MONO2_16, true, (w) => ((w & 0xff) << 8) | (w >> 8)],
  ];
  for (const [format, bigEndian, expected] of cases) {
    for (const offset of [0, 2, 4, 6]) {
      for (const count of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1001]) {
        const data = bytes.subarray(offset, offset + 2 * count);
        const got = scaleGrey(data, count, format, bigEndian);
        const want = Array.from(new Uint16Array(bytes.buffer, offset, count), expected);
        assert.deepEqual(Array.from(got), want, `${format.bitsStored} bits${bigEndian ? " big-endian" : ""}, view at byte ${offset}, ${count} words`);
      }
    }
  }
});

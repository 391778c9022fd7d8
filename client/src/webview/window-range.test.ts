// media/window-range.js (the viewer's window/level units and drag) under Node: the same file
// the webview loads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { MEDIA_DIR } from "../testing/chromium.js";

interface Range { lo: number; hi: number }
interface Win { center: number; width: number }
interface WindowRange {
  SCALE_MAX: number;
  imageRange(info: { bitsStored?: number; photometric?: string }, range?: { min: number; max: number }): Range;
  toImageUnits(w: Win, r: Range): Win;
  formatWindow(w: Win, r: Range): string;
  clampWindow(w: Win, r: Range): Win;
  dragWindow(start: Win, dx: number, dy: number, size: { width: number; height: number }, r: Range): Win;
}
const load = () => import(pathToFileURL(join(MEDIA_DIR, "window-range.js")).href) as Promise<WindowRange>;
const FULL = { center: 32767.5, width: 65535 };

test("windows are shown in the image's own range: 8-bit 0–255, 16-bit, DICOM modality units", async () => {
  const wr = await load();
  const png8 = wr.imageRange({ bitsStored: 8 });
  assert.deepEqual(png8, { lo: 0, hi: 255 });
  assert.equal(wr.formatWindow(FULL, png8), "C 128 / W 255", "not C 32768 / W 65535");
  assert.equal(wr.formatWindow({ center: 257 * 40, width: 257 * 80 }, png8), "C 40 / W 80");
  assert.equal(wr.formatWindow(FULL, wr.imageRange({ bitsStored: 16 })), "C 32768 / W 65535");
  assert.equal(wr.formatWindow(FULL, wr.imageRange({ bitsStored: 12 })), "C 2048 / W 4095");
  // A CT-like modality range −3072..1023 (HU): the scale's 0 is −3072.
  const ct = wr.imageRange({ bitsStored: 12 }, { min: -3072, max: 1023 });
  const lung = { center: ((-600 + 3072) / 4095) * 65535, width: (1500 / 4095) * 65535 };
  assert.equal(wr.formatWindow(lung, ct), "C -600 / W 1500");
  // MONOCHROME1: brighter is lower, so scale 0 is the range's top.
  const m1 = wr.imageRange({ bitsStored: 12, photometric: "MONOCHROME1" }, { min: 0, max: 4095 });
  assert.deepEqual(m1, { lo: 4095, hi: 0 });
  assert.deepEqual(wr.toImageUnits({ center: 65535 * 0.25, width: 65535 * 0.5 }, m1), { center: 4095 * 0.75, width: 4095 * 0.5 });
  assert.equal(wr.formatWindow(FULL, wr.imageRange({ bitsStored: 1 })), "C 0.5 / W 1.0", "tenths for tiny ranges");
});

test("a full-width drag moves the width by about the full range; a 300 px drag never collapses it", async () => {
  const wr = await load();
  const r = wr.imageRange({ bitsStored: 8 });
  const size = { width: 600, height: 400 };
  const wide = wr.dragWindow(FULL, 600, 0, size, r);
  assert.equal(wide.width, 2 * 65535, "full-width right drag: + the full range");
  const narrow = wr.dragWindow(FULL, -300, 0, size, r);
  assert.equal(wr.formatWindow(narrow, r), "C 128 / W 128", "300 px left on a 600 px stage: half the range, not W 1");
  const lower = wr.dragWindow(FULL, 0, -100, size, r);
  assert.equal(wr.formatWindow(lower, r), "C 64 / W 255", "a quarter of the height up: center down by a quarter of the range");
  // Sensitivity does not depend on the window: dragging back undoes a drag.
  const back = wr.dragWindow(wr.dragWindow(FULL, -150, 80, size, r), 150, -80, size, r);
  assert.ok(Math.abs(back.width - FULL.width) < 1e-6 && Math.abs(back.center - FULL.center) < 1e-6);
  // The width stops at one image unit (an 8-bit step is 257 of the scale), the center in range.
  const floor = wr.dragWindow(FULL, -5000, 5000, size, r);
  assert.deepEqual(floor, { center: 65535, width: 257 });
  assert.equal(wr.formatWindow(floor, r), "C 255 / W 1");
});

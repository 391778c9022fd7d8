import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listImages } from "./images.js";

test("a folder gives its images recursively, sorted, hidden entries and other files skipped", () => {
  const d = mkdtempSync(join(tmpdir(), "xraygpt-images-"));
  mkdirSync(join(d, "sub"));
  mkdirSync(join(d, ".hidden"));
  for (const f of ["b.png", "a.DCM", "notes.txt", "sub/c.jpg", ".hidden/d.png", ".e.png"]) writeFileSync(join(d, f), "x");
  assert.deepEqual(listImages(d), [join(d, "a.DCM"), join(d, "b.png"), join(d, "sub", "c.jpg")]);
});

test("a list file gives its paths, relative ones from the list's folder", () => {
  const d = mkdtempSync(join(tmpdir(), "xraygpt-images-"));
  const list = join(d, "batch.txt");
  writeFileSync(list, "# my batch\nx/one.png\n\n/abs/two.dcm\r\n");
  assert.deepEqual(listImages(list), [join(d, "x", "one.png"), "/abs/two.dcm"]);
  writeFileSync(list, "# nothing\n");
  assert.throws(() => listImages(list), /batch\.txt: the list names no images/);
  assert.throws(() => listImages(join(d, "missing")), /missing: file not found \(ENOENT\)/);
  mkdirSync(join(d, "empty"));
  assert.throws(() => listImages(join(d, "empty")), /empty: no images/);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { scanStops } from "./stop-strings.js";

test("finds the earliest complete stop string", () => {
  assert.deepEqual(scanStops("Impression: normal. ###Patient", ["###", "Patient"]), { stopAt: 20, safeEnd: 20 });
});

test("holds back a possible start of a stop string", () => {
  assert.deepEqual(scanStops("The lungs are clear. #", ["###"]), { stopAt: -1, safeEnd: 21 });
  assert.deepEqual(scanStops("The lungs are clear. ##", ["###"]), { stopAt: -1, safeEnd: 21 });
  assert.deepEqual(scanStops("No effusion.", ["###"]), { stopAt: -1, safeEnd: 12 });
});

test("no stop strings: everything is safe", () => {
  assert.deepEqual(scanStops("abc", []), { stopAt: -1, safeEnd: 3 });
});

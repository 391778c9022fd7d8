import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapInterval, mulberry32, quantile } from "./bootstrap.js";

test("quantile interpolates linearly like numpy", () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([1, 2, 3, 4], 0), 1);
  assert.equal(quantile([1, 2, 3, 4], 1), 4);
  assert.ok(Math.abs(quantile([0, 10], 0.025) - 0.25) < 1e-12);
});

test("the seeded generator is deterministic and uniform-ish", () => {
  const a = mulberry32(7);
  const b = mulberry32(7);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});

test("bootstrap interval of a mean: same seed same interval, brackets the mean, constant data gives a point", () => {
  const data = Array.from({ length: 200 }, (_, i) => (i % 10) / 10);
  const mean = (idx: number[]) => idx.reduce((s, i) => s + data[i]!, 0) / idx.length;
  const a = bootstrapInterval(data.length, mean, { samples: 500, seed: 1 })!;
  const b = bootstrapInterval(data.length, mean, { samples: 500, seed: 1 })!;
  assert.deepEqual(a, b);
  assert.ok(a.low < 0.45 && a.high > 0.45 && a.high - a.low < 0.2, JSON.stringify(a));
  assert.deepEqual(bootstrapInterval(5, () => 3, { samples: 50 }), { low: 3, high: 3 });
  assert.equal(bootstrapInterval(0, () => 1), null);
  assert.equal(bootstrapInterval(5, () => null, { samples: 10 }), null);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readNpz } from "./npz.js";
import { rocAuc } from "./vision-eval.js";
import { pythonUnavailable, SYSTEM_PYTHON } from "../models/xraygpt-mini/paths.js";

const missing = pythonUnavailable();

for (const fn of ["savez", "savez_compressed"]) {
  test(`readNpz reads arrays written by numpy.${fn}`, { skip: missing ?? false }, () => {
    const dir = mkdtempSync(join(tmpdir(), "xraygpt-npz-"));
    try {
      const file = join(dir, "a.npz");
      const py = `import numpy as np; np.${fn}(${JSON.stringify(file)}, imgs=(np.arange(2*3*4)%256).astype(np.uint8).reshape(2,3,4), labels=np.array([[1],[0]], dtype=np.int64), f=np.array([0.5,-2.0], dtype=np.float32))`;
      const r = spawnSync(SYSTEM_PYTHON, ["-c", py], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const npz = readNpz(file);
      assert.deepEqual(npz.get("imgs")!.shape, [2, 3, 4]);
      assert.deepEqual(Array.from(npz.get("imgs")!.data as Uint8Array), Array.from({ length: 24 }, (_, i) => i));
      assert.deepEqual(Array.from(npz.get("labels")!.data as BigInt64Array, Number), [1, 0]);
      assert.deepEqual(Array.from(npz.get("f")!.data as Float32Array), [0.5, -2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("readNpz names the file when it is not an npz", () => {
  const dir = mkdtempSync(join(tmpdir(), "xraygpt-npz-"));
  try {
    const file = join(dir, "not.npz");
    spawnSync("sh", ["-c", `printf 'hello' > ${JSON.stringify(file)}`]);
    assert.throws(() => readNpz(file), (e: Error) => e.message.includes(file) && /no arrays found/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rocAuc: perfect, inverted, tied and mixed rankings", () => {
  assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
  assert.equal(rocAuc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]), 0);
  assert.equal(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]), 0.5);
  // pairs (pos, neg): (0.8 > 0.3), (0.8 > 0.9? no), (0.4 > 0.3), (0.4 > 0.9? no) → 2/4
  assert.equal(rocAuc([1, 0, 1, 0], [0.8, 0.3, 0.4, 0.9]), 0.5);
});

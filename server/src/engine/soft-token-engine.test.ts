// Soft-token models through the engine, for real: ONNX Runtime vision → projection → the
// soft-token addon in the model process (a child process, as for findings-text models).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import type { ProgressParams } from "@xraygpt/protocol";
import { XrayEngine } from "./engine.js";
import { summarizeCancelledAfter } from "../testing/cancel-after.js";
import type { EngineError } from "./errors.js";
import { scanModels } from "../models/registry.js";
import { loadSoftTokenAddon } from "../softtoken/addon.js";
import { FIXTURE_LABELS } from "../testing/fixture-model.js";
import { SOFT_TOKEN_TEMPLATE, writeSoftTokenFixtureModel } from "../testing/soft-token-fixture.js";
import { mulberry32 } from "../util/random.js";
import { encodeModel, floatTensor, valueInfo } from "../testing/tiny-onnx.js";
import { FIXTURE_MODEL, makeSoftTokenWorkspace, SOFT_LONG_MODEL, SOFT_MODEL, type TestWorkspace } from "../testing/workspace.js";

let ws: TestWorkspace;
let engine: XrayEngine;

function modelPid(id: string): number {
  return (engine as unknown as { resident: Map<string, { backend: { llm: { pid: number } } }> }).resident.get(id)!.backend.llm.pid;
}

before(async () => {
  const addon = loadSoftTokenAddon({ gpu: false });
  assert.ok(addon.ok, `the soft-token addon is needed: ${addon.ok ? "" : addon.reason}`);
  ws = await makeSoftTokenWorkspace(3);
  engine = new XrayEngine({ modelsDirs: [ws.modelsDir], defaultModel: SOFT_MODEL, threads: 1, device: "cpu" });
});
after(async () => {
  await engine?.dispose();
  await ws?.cleanup();
});

test("summarize: soft tokens (vision → projection) into the LLM, streamed in order", async () => {
  const events: string[] = [];
  let streamed = "";
  const r = await engine.summarize(
    { image: ws.images[0]! },
    {
      onProgress: (p: Omit<ProgressParams, "jobId">) => events.push(p.stage),
      onToken: (t) => {
        events.push("token");
        streamed += t;
      },
    },
  );
  assert.ok(events.indexOf("vision") > events.indexOf("decode"));
  assert.ok(events.indexOf("generate") > events.indexOf("vision"));
  assert.ok(events.indexOf("token") > events.indexOf("generate"), events.join(","));
  assert.equal(events.at(-1), "done");
  assert.equal(streamed.trim(), r.text);
  assert.equal(r.model.id, SOFT_MODEL);
  assert.ok(r.timings.tokens > 0 && r.timings.tokens <= 24);
  // The vision output is embeddings: no labels, no findings line.
  assert.deepEqual(r.findings.labels, []);
  assert.equal(r.findings.conditioningText, undefined);
  // The prompt holds BOS, the text before the image, 8 soft tokens and the text after them.
  assert.ok(r.timings.promptTokens > 8 + 4, `prompt positions: ${r.timings.promptTokens}`);
  const status = engine.status();
  assert.equal(status.device.llm, "cpu");
  assert.equal(status.device.vision, "cpu");
  assert.match(status.device.detail ?? "", /soft-token addon/);
  const info = (await engine.listModels()).find((m) => m.id === SOFT_MODEL)!;
  assert.equal(info.conditioning, "soft-tokens");
  assert.equal(info.available, true);
  assert.equal(info.loaded, true);
});

test("different images give different soft tokens and different summaries; the same image the same", async () => {
  const run = (image: string) => engine.summarize({ image, model: SOFT_LONG_MODEL, generation: { maxTokens: 30 } });
  const a = await run(ws.images[1]!);
  const b = await run(ws.images[2]!);
  assert.equal(a.timings.tokens, 30);
  assert.notEqual(a.text, b.text);
  assert.equal((await run(ws.images[1]!)).text, a.text);
});

test("a findings-text model runs beside the soft-token models", async () => {
  const r = await engine.summarize({ image: ws.images[0]!, model: FIXTURE_MODEL });
  assert.ok(r.timings.tokens > 0);
  assert.equal(r.findings.labels.length, 3);
  assert.match(r.findings.conditioningText!, /^View: .* Assessed: Pneumonia/);
});

test("cancelling mid-generation ends the job with the text so far", async () => {
  const { result: r, streamed } = await summarizeCancelledAfter(engine, { image: ws.images[0]!, model: SOFT_LONG_MODEL }, 5);
  assert.equal(r.stopReason, "cancelled");
  assert.ok(r.timings.tokens >= 5 && r.timings.tokens < 1000, `stopped early (${r.timings.tokens} tokens)`);
  assert.equal(r.text, streamed.trim());
});

test("jobs queue: the second waits for the first and reports its place", async () => {
  const order: string[] = [];
  const positions: number[] = [];
  const stopFirst = new AbortController();
  let firstGenerates!: () => void;
  const generating = new Promise<void>((resolve) => (firstGenerates = resolve));
  // The first runs (up to 1500 tokens) until the second is seen waiting, then is cancelled.
  const first = engine.summarize(
    { image: ws.images[0]!, model: SOFT_LONG_MODEL },
    { signal: stopFirst.signal, onProgress: (p) => (p.stage === "generate" && firstGenerates(), p.stage === "done" && order.push("first done")) },
  );
  // The second is submitted once the first holds the model (else its image could be analysed first).
  await generating;
  const waiting = new Promise<ReturnType<XrayEngine["status"]>>((resolve) => {
    const off = engine.onStatus((s) => s.queue.queued > 0 && (off(), resolve(s)));
  });
  const second = engine.summarize(
    { image: ws.images[1]!, model: SOFT_LONG_MODEL, generation: { maxTokens: 10 } },
    {
      onProgress: (p) => {
        if (p.stage === "queued") positions.push(p.position!);
        if (p.stage === "generate") order.push("second generates");
      },
    },
  );
  const status = await Promise.race([waiting, first.then(() => engine.status())]);
  stopFirst.abort();
  assert.equal(status.queue.queued, 1, "the second waited");
  assert.equal(status.queue.running, 1);
  const [a, b] = await Promise.all([first, second]);
  assert.equal(a.stopReason, "cancelled");
  assert.deepEqual(order, ["first done", "second generates"]);
  assert.deepEqual(positions, [0]);
  assert.equal(b.timings.tokens, 10);
  assert.ok(b.timings.queuedMs > 0);
  assert.equal(engine.status().quiescent, true);
});

test("a model process killed mid-generation fails that job; the next request restarts it", async () => {
  let killed = 0;
  const pending = engine.summarize(
    { image: ws.images[0]!, model: SOFT_LONG_MODEL },
    {
      onToken: (_t, index) => {
        if (index >= 3 && !killed) process.kill((killed = modelPid(SOFT_LONG_MODEL)), "SIGKILL");
      },
    },
  );
  await assert.rejects(pending, (e: EngineError) => e.kind === "ModelCrashed" && /fixture-soft-long.*died.*SIGKILL/.test(e.message));
  const r = await engine.summarize({ image: ws.images[0]!, model: SOFT_LONG_MODEL, generation: { maxTokens: 5 } });
  assert.equal(r.timings.tokens, 5);
  assert.notEqual(modelPid(SOFT_LONG_MODEL), killed, "a new model process");
});

test("chat keeps the image's soft tokens in the KV cache across turns", async () => {
  const settings = { generation: { maxTokens: 8 } };
  const first = await engine.chat({ image: ws.images[2]!, message: "Is there a pleural effusion?", model: SOFT_LONG_MODEL, ...settings });
  assert.ok(first.timings.visionMs > 0);
  // A new image: at most the text before it is cached; its 6 soft tokens and what follows are decoded.
  assert.ok(first.timings.cachedPromptTokens < first.timings.promptTokens - 6, `first turn: cached ${first.timings.cachedPromptTokens} of ${first.timings.promptTokens}`);
  const second = await engine.chat({ image: ws.images[2]!, sessionId: first.sessionId, message: "How is the heart size?", ...settings });
  assert.equal(second.timings.visionMs, 0, "the image is not analysed again");
  assert.equal(second.timings.decodeMs, 0);
  // The whole first prompt (BOS, text, 6 soft tokens, text) is re-used; only what follows is decoded.
  assert.ok(second.timings.cachedPromptTokens >= first.timings.promptTokens, `cached ${second.timings.cachedPromptTokens} of ${second.timings.promptTokens}; first prompt ${first.timings.promptTokens}`);
  assert.ok(second.timings.promptTokens > second.timings.cachedPromptTokens);
  const third = await engine.chat({ image: ws.images[2]!, sessionId: first.sessionId, message: "Any consolidation?", ...settings });
  assert.ok(third.timings.cachedPromptTokens >= second.timings.promptTokens, `third turn: cached ${third.timings.cachedPromptTokens}, second prompt ${second.timings.promptTokens}`);
  assert.ok(await engine.endChat(first.sessionId));
});

test("a soft-token model is unavailable with the addon's reason when the addon can't load; findings-text models still work", async () => {
  await writeFile(join(ws.dir, "reason.txt"), "node-gyp: g++ not found\n");
  const broken = () => loadSoftTokenAddon({ addonPath: join(ws.dir, "missing", "llama_embed.node"), reasonPath: join(ws.dir, "reason.txt"), gpu: false });
  const models = await scanModels([ws.modelsDir], { softTokenAddon: broken });
  for (const id of [SOFT_MODEL, SOFT_LONG_MODEL]) {
    assert.equal(models.get(id)!.loaded, undefined, id);
    assert.equal(models.get(id)!.problem, "soft-token addon not built: node-gyp: g++ not found");
  }
  assert.ok(models.get(FIXTURE_MODEL)!.loaded);
  // With the real addon (loadable here) they are available.
  const real = await scanModels([ws.modelsDir]);
  assert.ok(real.get(SOFT_MODEL)!.loaded && real.get(SOFT_LONG_MODEL)!.loaded);
});

test("a soft-token model with a labels output too: labels in the findings and in the prompt's {findings}", async () => {
  const id = "fixture-soft-labels";
  const template = SOFT_TOKEN_TEMPLATE.replace("{prompt}", "{findings} {prompt}");
  const dir = await writeSoftTokenFixtureModel(ws.modelsDir, id, { tokens: 4, nEmbd: 32 });
  // Add a labels head to the fixture's vision graph: probs = flat · W (16×16 pixels → 3 labels).
  const vision = join(dir, "vision.onnx");
  const graph = onnxProto.onnx.ModelProto.decode(await readFile(vision)).graph!;
  const rand = mulberry32(5);
  graph.node!.push({ opType: "MatMul", input: ["flat", "wl"], output: ["probs"] });
  graph.initializer!.push(floatTensor("wl", [256, 3], Float32Array.from({ length: 768 }, () => (rand() - 0.5) * 0.5)));
  graph.output!.push(valueInfo("probs", [1, 3]));
  await writeFile(vision, encodeModel(graph));
  const manifest = JSON.parse(await readFile(join(dir, "model.json"), "utf8"));
  manifest.vision.outputs.push({ kind: "labels", name: "probs", activation: "sigmoid", labels: FIXTURE_LABELS, role: "findings" });
  manifest.prompt.template = template;
  await writeFile(join(dir, "model.json"), JSON.stringify(manifest));
  const labelled = new XrayEngine({ modelsDirs: [ws.modelsDir], threads: 1, device: "cpu" });
  try {
    const r = await labelled.summarize({ image: ws.images[0]!, model: id, generation: { maxTokens: 4 } });
    assert.deepEqual(r.findings.labels.map((l) => l.name), FIXTURE_LABELS);
    assert.ok(r.findings.labels.every((l) => l.probability > 0 && l.probability < 1));
    assert.match(r.findings.conditioningText!, /^Assessed: Pneumonia (positive|negative), Lung Opacity (positive|negative), Pleural Effusion (positive|negative)\.$/);
    // The findings line is in the prompt: more positions than the same model without {findings}.
    manifest.prompt.template = SOFT_TOKEN_TEMPLATE;
    await writeFile(join(dir, "model.json"), JSON.stringify(manifest));
    const plain = new XrayEngine({ modelsDirs: [ws.modelsDir], threads: 1, device: "cpu" });
    try {
      const p = await plain.summarize({ image: ws.images[0]!, model: id, generation: { maxTokens: 4 } });
      assert.ok(r.timings.promptTokens > p.timings.promptTokens + 10, `${r.timings.promptTokens} vs ${p.timings.promptTokens}`);
    } finally {
      await plain.dispose();
    }
  } finally {
    await labelled.dispose();
  }
});

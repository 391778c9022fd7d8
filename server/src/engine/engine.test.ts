import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ProgressParams } from "@xraygpt/protocol";
import { XrayEngine } from "./engine.js";
import { summarizeCancelledAfter } from "../testing/cancel-after.js";
import { EngineError } from "./errors.js";
import { BROKEN_MODEL, FIXTURE_MODEL, LONG_MODEL, makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";

let ws: TestWorkspace;
let engine: XrayEngine;

before(async () => {
  ws = await makeTestWorkspace(3);
  engine = new XrayEngine({ modelsDirs: [ws.modelsDir], defaultModel: FIXTURE_MODEL, threads: 1 });
});
after(async () => {
  await engine.dispose();
  await ws.cleanup();
});

test("summarize streams progress and tokens in order, and the tokens make the text", async () => {
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
  const firstToken = events.indexOf("token");
  assert.ok(firstToken > events.indexOf("generate"), `tokens after generate: ${events.join(",")}`);
  assert.ok(events.indexOf("generate") > events.indexOf("vision"));
  assert.ok(events.indexOf("vision") > events.indexOf("decode"));
  assert.equal(events.at(-1), "done");
  assert.equal(streamed.trim(), r.text);
  assert.ok(r.timings.tokens > 0 && r.timings.tokens <= 24);
  assert.equal(r.model.id, FIXTURE_MODEL);
  assert.match(r.model.manifestHash, /^[0-9a-f]{64}$/);
  assert.equal(r.image.format, "png");
  assert.deepEqual(r.findings.labels.map((l) => l.name), ["Pneumonia", "Lung Opacity", "Pleural Effusion"]);
  assert.match(r.findings.conditioningText!, /^View: (frontal|lateral)\. Assessed: Pneumonia (positive|negative), Lung Opacity (positive|negative), Pleural Effusion (positive|negative)\.$/);
});

test("different images give different findings and different summaries", async () => {
  const a = await engine.summarize({ image: ws.images[1]!, model: LONG_MODEL, generation: { maxTokens: 40 } });
  const b = await engine.summarize({ image: ws.images[2]!, model: LONG_MODEL, generation: { maxTokens: 40 } });
  assert.notDeepEqual(a.findings.labels, b.findings.labels);
  if (a.findings.conditioningText !== b.findings.conditioningText) assert.notEqual(a.text, b.text);
  // Same image, greedy: the same text (the model is resident and deterministic).
  const a2 = await engine.summarize({ image: ws.images[1]!, model: LONG_MODEL, generation: { maxTokens: 40 } });
  assert.equal(a2.text, a.text);
});

test("cancelling mid-generation ends the job with the text so far", async () => {
  const { result: r, streamed } = await summarizeCancelledAfter(engine, { image: ws.images[0]!, model: LONG_MODEL }, 5);
  assert.equal(r.stopReason, "cancelled");
  assert.ok(r.timings.tokens < 1000, `stopped early (${r.timings.tokens} tokens)`);
  assert.equal(r.text, streamed.trim());
});

test("jobs queue: one generation at a time, the second waits and reports its place", async () => {
  const order: string[] = [];
  const positions: number[] = [];
  let firstGenerating!: () => void;
  const generating = new Promise<void>((r) => (firstGenerating = r));
  const first = engine.summarize(
    { image: ws.images[0]!, model: LONG_MODEL, generation: { maxTokens: 1000 } },
    {
      onProgress: (p) => {
        if (p.stage === "generate") firstGenerating();
        if (p.stage === "done") order.push("first done");
      },
    },
  );
  // Images are analysed concurrently; submit the second once the first holds the model.
  await generating;
  const second = engine.summarize(
    { image: ws.images[1]!, model: LONG_MODEL, generation: { maxTokens: 10 } },
    {
      onProgress: (p) => {
        if (p.stage === "queued") positions.push(p.position!);
        if (p.stage === "generate") order.push("second generates");
      },
    },
  );
  const status = await new Promise<ReturnType<XrayEngine["status"]>>((resolve) => {
    const off = engine.onStatus((s) => s.queue.queued > 0 && (off(), resolve(s)));
  });
  assert.equal(status.queue.running, 1);
  await Promise.all([first, second]);
  assert.deepEqual(order, ["first done", "second generates"]);
  assert.deepEqual(positions, [0]);
  assert.equal(engine.status().quiescent, true);
});

test("the model's queue takes turns between clients: one client's backlog does not hold up another's request", async () => {
  const order: string[] = [];
  let blockerGenerating!: () => void;
  const generating = new Promise<void>((r) => (blockerGenerating = r));
  const job = (client: string, image: string, name: string, maxTokens: number, onGenerate?: () => void) =>
    engine.summarize({ image, model: LONG_MODEL, generation: { maxTokens } }, { client, onProgress: (p) => p.stage === "generate" && (order.push(name), onGenerate?.()) });
  const blocker = job("chatty", ws.images[0]!, "chatty-0", 400, () => blockerGenerating());
  await generating;
  // The chatty client's backlog is of other images; the newcomer asks about the image just served.
  const backlog = [1, 2, 1, 2].map((k, i) => job("chatty", ws.images[k]!, `chatty-${i + 1}`, 4));
  await new Promise<void>((resolve) => {
    const off = engine.onStatus((s) => s.queue.queued === 4 && (off(), resolve()));
  });
  const newcomer = job("newcomer", ws.images[0]!, "newcomer", 4);
  await Promise.all([blocker, newcomer, ...backlog]);
  assert.deepEqual(order.slice(0, 2), ["chatty-0", "newcomer"], order.join(", "));
});

test("a malformed GGUF aborts only its model process; the engine keeps serving", async () => {
  await assert.rejects(engine.summarize({ image: ws.images[0]!, model: BROKEN_MODEL }), (e: EngineError) => {
    assert.equal(e.kind, "ModelUnavailable");
    assert.match(e.message, /fixture-broken.*died while loading.*(SIGABRT|GGML_ASSERT)/s);
    return true;
  });
  const r = await engine.summarize({ image: ws.images[0]!, model: FIXTURE_MODEL });
  assert.ok(r.text.length > 0);
});

test("a model process killed mid-generation fails that job and restarts on the next", async () => {
  let messages = 0;
  const pending = engine.summarize(
    { image: ws.images[0]!, model: LONG_MODEL },
    {
      onToken: () => {
        if (++messages === 2) process.kill((engine as unknown as { resident: Map<string, { backend: { llm: { pid: number } } }> }).resident.get(LONG_MODEL)!.backend.llm.pid, "SIGKILL");
      },
    },
  );
  await assert.rejects(pending, (e: EngineError) => e.kind === "ModelCrashed" && /died/.test(e.message));
  const r = await engine.summarize({ image: ws.images[0]!, model: LONG_MODEL, generation: { maxTokens: 5 } });
  assert.equal(r.timings.tokens, 5);
});

test("bad images get specific errors naming the file, and the next request works", async () => {
  const notImage = join(ws.dir, "notes.png");
  await writeFile(notImage, "these are not pixels");
  const empty = join(ws.dir, "empty.dcm");
  await writeFile(empty, "");
  for (const [file, pattern] of [
    [notImage, /notes\.png/],
    [empty, /empty\.dcm.*(empty|zero)/i],
    [join(ws.dir, "missing.png"), /missing\.png/],
  ] as const) {
    await assert.rejects(engine.summarize({ image: file }), (e: Error & { kind?: string }) => {
      assert.equal(e.kind, "BadImage");
      assert.match(e.message, pattern);
      return true;
    });
  }
  const r = await engine.findings({ image: ws.images[0]! });
  assert.equal(r.findings.labels.length, 3);
});

test("images outside the allowed roots are refused", async () => {
  const restricted = new XrayEngine({ modelsDirs: [ws.modelsDir], defaultModel: FIXTURE_MODEL, allowedRoots: [join(ws.dir, "nowhere")], threads: 1 });
  try {
    await assert.rejects(restricted.findings({ image: ws.images[0]! }), (e: Error & { kind?: string }) => e.kind === "PathNotAllowed");
  } finally {
    await restricted.dispose();
  }
});

test("unknown models and bad settings are named in the error", async () => {
  await assert.rejects(engine.summarize({ image: ws.images[0]!, model: "no-such-model" }), /no-such-model.*not installed.*fixture-tiny/s);
  await assert.rejects(engine.summarize({ image: ws.images[0]!, generation: { maxTokens: 0 } }), /maxTokens/);
});

test("chat keeps the conversation and reuses the cached prompt", async () => {
  const first = await engine.chat({ image: ws.images[0]!, message: "Is there a pleural effusion?", model: LONG_MODEL, generation: { maxTokens: 8 } });
  assert.ok(first.sessionId);
  const second = await engine.chat({ image: ws.images[0]!, sessionId: first.sessionId, message: "How is the heart size?", model: LONG_MODEL, generation: { maxTokens: 8 } });
  assert.equal(second.sessionId, first.sessionId);
  assert.deepEqual(second.findings, first.findings);
  assert.equal(second.timings.visionMs, 0, "the image is not analysed again");
  assert.ok(second.timings.cachedPromptTokens > first.timings.promptTokens - 2, `KV cache reused: ${second.timings.cachedPromptTokens} of ${second.timings.promptTokens}`);
  assert.ok(await engine.endChat(first.sessionId));
  await assert.rejects(engine.chat({ image: ws.images[0]!, sessionId: first.sessionId, message: "again?" }), (e: EngineError) => e.kind === "UnknownSession");
});

test("models lists every model with its state", async () => {
  const models = await engine.listModels();
  const ids = models.map((m) => m.id);
  for (const id of [FIXTURE_MODEL, LONG_MODEL, BROKEN_MODEL]) assert.ok(ids.includes(id), id);
  const tiny = models.find((m) => m.id === FIXTURE_MODEL)!;
  assert.equal(tiny.available, true);
  assert.equal(tiny.default, true);
  assert.equal(tiny.loaded, true);
  const status = engine.status();
  assert.equal(status.device.llm, "cpu");
  assert.equal(status.device.vision, "cpu");
});

test("consensus decoding through the engine: candidates are counted, bad counts are refused by name", async () => {
  const r = await engine.summarize({ image: ws.images[0]!, generation: { candidates: 4, candidateTemperature: 1 } });
  assert.equal(r.timings.candidates, 4);
  assert.equal(r.generation.candidates, 4);
  assert.ok(r.text.length > 0);
  const plain = await engine.summarize({ image: ws.images[0]! });
  assert.equal(plain.timings.candidates, 1);
  for (const candidates of [0, 2.5, 65]) {
    await assert.rejects(engine.summarize({ image: ws.images[0]!, generation: { candidates } }), (e: unknown) => e instanceof EngineError && e.kind === "InvalidParams" && /candidates/.test(e.message));
  }
  const withEvidence = await engine.summarize({ image: ws.images[0]!, generation: { candidates: 4, evidenceCandidates: 2, evidenceTemperature: 1 } });
  assert.equal(withEvidence.timings.candidates, 4, "evidence candidates are generated too");
  assert.ok(withEvidence.text.length > 0);
  for (const generation of [{ candidates: 4, evidenceCandidates: 4 }, { candidates: 4, evidenceCandidates: 1.5 }, { candidates: 1, evidenceCandidates: 1 }, { candidates: 4, evidenceCandidates: 1, evidenceTemperature: 6 }]) {
    await assert.rejects(engine.summarize({ image: ws.images[0]!, generation }), (e: unknown) => e instanceof EngineError && e.kind === "InvalidParams" && /evidence/.test(e.message), JSON.stringify(generation));
  }
});

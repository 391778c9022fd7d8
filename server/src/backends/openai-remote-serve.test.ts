/** The remote backend against a second process, `xraygpt serve --http` (real HTTP both ways). */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { XrayEngine } from "../engine/engine.js";
import { FIXTURE_MODEL, LONG_MODEL, makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";
import { writeRemoteModel } from "../testing/remote-fixture.js";
import { startHttpDaemon, type HttpDaemon } from "../testing/http-daemon.js";

let ws: TestWorkspace;
let server: HttpDaemon;
let engine: XrayEngine;

before(async () => {
  ws = await makeTestWorkspace(2);
  server = await startHttpDaemon(["--models-dir", ws.modelsDir, "--api-key-env", "XRAYGPT_TEST_SERVE_KEY"], { ...process.env, XRAYGPT_TEST_SERVE_KEY: "sk-serve" });
  process.env.XRAYGPT_TEST_SERVE_KEY = "sk-serve";
  await writeRemoteModel(ws.modelsDir, "via-http", { baseUrls: [server.url], model: FIXTURE_MODEL, apiKeyEnv: "XRAYGPT_TEST_SERVE_KEY" });
  await writeRemoteModel(ws.modelsDir, "via-http-long", { baseUrls: [server.url], model: LONG_MODEL, apiKeyEnv: "XRAYGPT_TEST_SERVE_KEY" }, {
    generation: { maxTokens: 1500, temperature: 0, topP: 1, topK: 0, repeatPenalty: 1, seed: 3 },
  });
  await writeRemoteModel(ws.modelsDir, "via-http-nokey", { baseUrls: [server.url], model: FIXTURE_MODEL });
  engine = new XrayEngine({ modelsDirs: [ws.modelsDir], threads: 1 });
});
after(async () => {
  delete process.env.XRAYGPT_TEST_SERVE_KEY;
  await engine?.dispose();
  await server?.stop();
  await ws.cleanup();
});

test("summaries through the other daemon stream, and depend on the image", async () => {
  let streamed = "";
  const a = await engine.summarize({ image: ws.images[0]!, model: "via-http" }, { onToken: (t) => (streamed += t) });
  const b = await engine.summarize({ image: ws.images[1]!, model: "via-http" });
  assert.ok(a.text.length > 0);
  assert.equal(streamed.trim(), a.text);
  assert.ok(a.timings.tokens > 0 && a.timings.promptTokens > 0);
  assert.notEqual(a.text, b.text);
  assert.equal(engine.status().device.llm, "remote");
});

test("a two-turn chat continues the other daemon's session: the second turn's prompt is served from its cache", async () => {
  const first = await engine.chat({ image: ws.images[0]!, model: "via-http", message: "Is there pneumonia?" });
  const second = await engine.chat({ sessionId: first.sessionId, image: ws.images[0]!, message: "Is there an effusion?" });
  assert.ok(second.text.length > 0);
  assert.ok(second.timings.cachedPromptTokens > 0, `cached ${second.timings.cachedPromptTokens} of ${second.timings.promptTokens}`);
});

test("cancelling here cancels the job there; a missing key is a 401 named with the endpoint", async () => {
  const ctrl = new AbortController();
  let n = 0;
  const r = await engine.summarize({ image: ws.images[0]!, model: "via-http-long" }, { signal: ctrl.signal, onToken: () => ++n === 3 && ctrl.abort() });
  assert.equal(r.stopReason, "cancelled");
  const t = performance.now();
  let m: RegExpExecArray | null = null;
  while (!(m = /job was cancelled after (\d+) tokens/.exec(server.stderr())) && performance.now() - t < 30_000) await new Promise((res) => setTimeout(res, 50));
  assert.ok(m && Number(m[1]) < 100, "the serving daemon stopped generating");
  await assert.rejects(engine.summarize({ image: ws.images[0]!, model: "via-http-nokey" }), (e: Error) => e.message.includes(server.url) && /401/.test(e.message));
});

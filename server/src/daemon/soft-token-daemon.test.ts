// Soft-token models end to end: the daemon over JSON-RPC (stdio) and the CLI, as separate
// processes, with the fixture soft-token models (ONNX vision → projection → the addon).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CancellationTokenSource, ResponseError, type MessageConnection } from "vscode-jsonrpc/node.js";
import { ChatRequest, ErrorCodes, ModelsRequest, ProgressNotification, StatusRequest, SummarizeRequest, TokenNotification, type ProgressParams, type TokenParams } from "@xraygpt/protocol";
import { startStdioDaemon, type StdioDaemon } from "../testing/stdio-daemon.js";
import { makeSoftTokenWorkspace, SOFT_LONG_MODEL, SOFT_MODEL, type TestWorkspace } from "../testing/workspace.js";

const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));
const env = { ...process.env, XRAYGPT_THREADS: "1" };

let ws: TestWorkspace;
let daemon: StdioDaemon;
let rpc: MessageConnection;

function xraygpt(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args, "--models-dir", ws.modelsDir], { encoding: "utf8", input, env, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  ws = await makeSoftTokenWorkspace(2);
  daemon = await startStdioDaemon(ws.modelsDir, SOFT_MODEL, env);
  rpc = daemon.rpc;
});

after(async () => {
  await daemon?.stop();
  await ws?.cleanup();
});

test("daemon: summarize streams token notifications of a soft-token model", async () => {
  const tokens: TokenParams[] = [];
  const progress: ProgressParams[] = [];
  const d1 = rpc.onNotification(TokenNotification, (p) => tokens.push(p));
  const d2 = rpc.onNotification(ProgressNotification, (p) => progress.push(p));
  const r = await rpc.sendRequest(SummarizeRequest, { jobId: "soft-1", image: ws.images[0]! });
  d1.dispose();
  d2.dispose();
  assert.equal(r.model.id, SOFT_MODEL);
  assert.ok(r.timings.tokens > 0);
  assert.ok(tokens.length > 0 && tokens.every((t) => t.jobId === "soft-1"));
  assert.equal(tokens.map((t) => t.text).join("").trim(), r.text);
  assert.deepEqual(progress.find((p) => p.stage === "vision" && p.findings)?.findings?.labels, []);
  assert.equal(progress.at(-1)?.stage, "done");
  const status = await rpc.sendRequest(StatusRequest, {});
  assert.deepEqual(status.loadedModels, [SOFT_MODEL]);
  assert.equal(status.device.llm, "cpu");
  const models = await rpc.sendRequest(ModelsRequest, {});
  const soft = models.models.find((m) => m.id === SOFT_MODEL)!;
  assert.equal(soft.conditioning, "soft-tokens");
  assert.ok(soft.available && soft.loaded);
});

test("daemon: $/cancelRequest stops a soft-token generation", async () => {
  const source = new CancellationTokenSource();
  let count = 0;
  const d = rpc.onNotification(TokenNotification, (p) => p.jobId === "soft-cancel" && ++count === 3 && source.cancel());
  const r = await rpc.sendRequest(SummarizeRequest, { jobId: "soft-cancel", image: ws.images[0]!, model: SOFT_LONG_MODEL }, source.token).catch((e: ResponseError<unknown>) => e);
  d.dispose();
  if (r instanceof ResponseError) assert.equal(r.code, ErrorCodes.RequestCancelled);
  else {
    assert.equal(r.stopReason, "cancelled");
    assert.ok(r.timings.tokens < 1000);
  }
});

test("daemon: a chat's second turn re-uses the first turn's prompt, soft tokens included", async () => {
  const first = await rpc.sendRequest(ChatRequest, { jobId: "c1", image: ws.images[1]!, model: SOFT_LONG_MODEL, message: "Is there a pleural effusion?", generation: { maxTokens: 6 } });
  const second = await rpc.sendRequest(ChatRequest, { jobId: "c2", image: ws.images[1]!, sessionId: first.sessionId, message: "And the heart?", generation: { maxTokens: 6 } });
  assert.equal(second.sessionId, first.sessionId);
  assert.equal(second.timings.visionMs, 0);
  assert.ok(second.timings.cachedPromptTokens >= first.timings.promptTokens, `cached ${second.timings.cachedPromptTokens}, first prompt ${first.timings.promptTokens}`);
});

test("CLI: summarize streams a soft-token model's summary", () => {
  const r = xraygpt(["summarize", ws.images[0]!, "--model", SOFT_MODEL]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /fixture-soft 0\.0\.1 · [1-9]\d* tokens/);
  assert.ok(r.stdout.trim().length > 0);
});

test("CLI: different images give different summaries (--json)", () => {
  const run = (image: string) => {
    const r = xraygpt(["summarize", image, "--json", "--model", SOFT_LONG_MODEL, "--max-tokens", "20"]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { text: string; findings: { labels: unknown[] }; timings: { tokens: number } };
  };
  const a = run(ws.images[0]!);
  const b = run(ws.images[1]!);
  assert.equal(a.timings.tokens, 20);
  assert.deepEqual(a.findings.labels, []);
  assert.notEqual(a.text, b.text);
});

test("CLI: models lists the soft-token models as available; chat answers each line", () => {
  const m = xraygpt(["models", "--json"]);
  assert.equal(m.code, 0, m.stderr);
  const listed = JSON.parse(m.stdout) as { id: string; available: boolean; conditioning: string }[];
  for (const id of [SOFT_MODEL, SOFT_LONG_MODEL]) assert.ok(listed.some((x) => x.id === id && x.available && x.conditioning === "soft-tokens"), id);
  const c = xraygpt(["chat", ws.images[0]!, "--model", SOFT_LONG_MODEL, "--max-tokens", "4"], "Is there a pleural effusion?\nHow is the heart size?\n");
  assert.equal(c.code, 0, c.stderr);
  assert.ok(c.stdout.split("\n").filter(Boolean).length >= 1);
});

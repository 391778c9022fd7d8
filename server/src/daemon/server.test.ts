import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { CancellationTokenSource, ResponseError, type MessageConnection } from "vscode-jsonrpc/node.js";
import {
  ChatRequest,
  ErrorCodes,
  FindingsRequest,
  ModelsRequest,
  ProgressNotification,
  StatusRequest,
  SummarizeRequest,
  TokenNotification,
  DecodeImageRequest,
  type ProgressParams,
  type TokenParams,
} from "@xraygpt/protocol";
import { startStdioDaemon, type StdioDaemon } from "../testing/stdio-daemon.js";
import { syntheticGrey, writeDicom } from "../testing/dicom-fixtures.js";
import { connectClient, startSocketDaemon } from "../testing/socket-daemon.js";
import { BROKEN_MODEL, FIXTURE_MODEL, LONG_MODEL, makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";

let ws: TestWorkspace;
let daemon: StdioDaemon;
let rpc: MessageConnection;

before(async () => {
  ws = await makeTestWorkspace(2);
  daemon = await startStdioDaemon(ws.modelsDir, FIXTURE_MODEL);
  rpc = daemon.rpc;
});

after(async () => {
  await daemon.stop();
  await ws.cleanup();
});

test("summarize over JSON-RPC streams token notifications tagged with the job id", async () => {
  const tokens: TokenParams[] = [];
  const progress: ProgressParams[] = [];
  const d1 = rpc.onNotification(TokenNotification, (p) => tokens.push(p));
  const d2 = rpc.onNotification(ProgressNotification, (p) => progress.push(p));
  const r = await rpc.sendRequest(SummarizeRequest, { jobId: "job-1", image: ws.images[0]! });
  d1.dispose();
  d2.dispose();
  assert.equal(r.jobId, "job-1");
  assert.ok(tokens.length > 0 && tokens.every((t) => t.jobId === "job-1"));
  assert.deepEqual(tokens.map((t) => t.index), [...tokens.map((t) => t.index)].sort((a, b) => a - b), "in order");
  assert.equal(tokens.map((t) => t.text).join("").trim(), r.text);
  assert.ok(progress.some((p) => p.stage === "vision" && p.findings));
  assert.equal(progress.at(-1)?.stage, "done");
});

test("consensus decoding streams the provisional draft, candidate counts, then the answer replacing it", async () => {
  const tokens: TokenParams[] = [];
  const progress: ProgressParams[] = [];
  const d1 = rpc.onNotification(TokenNotification, (p) => p.jobId === "job-consensus" && tokens.push(p));
  const d2 = rpc.onNotification(ProgressNotification, (p) => p.jobId === "job-consensus" && progress.push(p));
  const r = await rpc.sendRequest(SummarizeRequest, { jobId: "job-consensus", image: ws.images[0]!, generation: { candidates: 6, candidateTemperature: 1.2 } });
  d1.dispose();
  d2.dispose();
  assert.equal(r.timings.candidates, 6);
  const kinds = tokens.map((t) => (t.replace ? "replace" : t.provisional ? "provisional" : "token"));
  assert.ok(kinds.length >= 2 && kinds.at(-1) === "replace" && kinds.slice(0, -1).every((k) => k === "provisional"), kinds.join(","));
  assert.equal(tokens.at(-1)!.text.trim(), r.text);
  const counts = progress.filter((p) => p.candidates).map((p) => (assert.equal(p.stage, "generate"), assert.equal(p.candidates!.total, 6), p.candidates!.done));
  assert.ok(counts.length > 0 && counts.at(-1) === 6, JSON.stringify(counts));
  assert.deepEqual(counts, [...counts].sort((a, b) => a - b));
});

test("$/cancelRequest stops a generation; the partial text comes back", async () => {
  const source = new CancellationTokenSource();
  let count = 0;
  const d = rpc.onNotification(TokenNotification, (p) => p.jobId === "job-cancel" && ++count === 3 && source.cancel());
  const r = await rpc.sendRequest(SummarizeRequest, { jobId: "job-cancel", image: ws.images[0]!, model: LONG_MODEL }, source.token).catch((e: ResponseError<unknown>) => e);
  d.dispose();
  if (r instanceof ResponseError) assert.equal(r.code, ErrorCodes.RequestCancelled);
  else {
    assert.equal(r.stopReason, "cancelled");
    assert.ok(r.timings.tokens < 1000);
  }
});

test("bad requests get specific errors and the daemon answers the next one", async () => {
  const bad = await rpc.sendRequest(SummarizeRequest, { jobId: "j", image: join(ws.dir, "nope.dcm") }).catch((e: ResponseError<{ kind: string }>) => e);
  assert.ok(bad instanceof ResponseError);
  assert.equal(bad.code, ErrorCodes.BadImage);
  assert.equal(bad.data?.kind, "BadImage");
  assert.match(bad.message, /nope\.dcm/);
  const noParams = await rpc.sendRequest(FindingsRequest, { image: 42 as unknown as string }).catch((e: ResponseError<unknown>) => e);
  assert.ok(noParams instanceof ResponseError);
  assert.equal(noParams.code, ErrorCodes.InvalidParams);
  assert.match(noParams.message, /"image" must be a string/);
  const crash = await rpc.sendRequest(SummarizeRequest, { jobId: "j2", image: ws.images[0]!, model: BROKEN_MODEL }).catch((e: ResponseError<unknown>) => e);
  assert.ok(crash instanceof ResponseError);
  assert.equal(crash.code, ErrorCodes.ModelUnavailable);
  const ok = await rpc.sendRequest(FindingsRequest, { image: ws.images[1]! });
  assert.equal(ok.findings.labels.length, 3);
  const status = await rpc.sendRequest(StatusRequest, {});
  assert.equal(status.health, "ok");
  assert.equal(status.device.llm, "cpu");
});

test("decodeImage returns 16-bit pixels for the viewer", async () => {
  const r = await rpc.sendRequest(DecodeImageRequest, { image: ws.images[0]! });
  assert.equal(Buffer.from(r.pixels, "base64").length, r.width * r.height * 2);
  assert.equal(r.info.format, "png");
  const small = await rpc.sendRequest(DecodeImageRequest, { image: ws.images[0]!, maxSize: 40 });
  assert.equal(Math.max(small.width, small.height), 40);
  assert.equal(small.info.width, r.width, "info describes the source image");
  assert.equal(r.range, undefined, "a PNG has no modality range (its scale spans 0..2^bits−1)");
  // A DICOM: the modality values its scale spans, so the viewer shows windows in them.
  const dcm = join(ws.dir, "ct-like.dcm");
  writeDicom(dcm, { width: 8, height: 8, pixels: syntheticGrey(8, 8, 4095), bitsStored: 12, rescaleSlope: 1, rescaleIntercept: -1024, windowCenter: [40], windowWidth: [400] });
  const d = await rpc.sendRequest(DecodeImageRequest, { image: dcm });
  assert.deepEqual(d.range, { min: -1024, max: 4095 - 1024 });
  assert.ok(Math.abs(d.window.center - ((40 + 1024) / 4095) * 65535) < 1e-6, "the window stays in the pixel scale");
  const bad = await rpc.sendRequest(DecodeImageRequest, { image: join(ws.dir, "gone.dcm") }).catch((e: ResponseError<{ kind: string }>) => e);
  assert.ok(bad instanceof ResponseError);
  assert.equal(bad.data?.kind, "BadImage");
  assert.match(bad.message, /gone\.dcm/);
});

test("a shared socket daemon serves two clients with one resident model", async () => {
  const socketPath = join(ws.dir, "xraygpt.sock");
  const shared = await startSocketDaemon(socketPath, ["--models-dir", ws.modelsDir, "--model", FIXTURE_MODEL]);
  try {
    assert.equal(statSync(socketPath).mode & 0o777, 0o600, "only the owner may connect");
    const clients = (await Promise.all([0, 1].map(() => connectClient(socketPath)))).map((c) => c.rpc);
    const [a, b] = await Promise.all(clients.map((c, i) => c.sendRequest(ChatRequest, { jobId: `c${i}`, image: ws.images[i]!, message: "Is there a pleural effusion?" })));
    assert.notEqual(a!.sessionId, b!.sessionId);
    const status = await clients[1]!.sendRequest(StatusRequest, {});
    assert.deepEqual(status.loadedModels, [FIXTURE_MODEL]);
    const models = await clients[0]!.sendRequest(ModelsRequest, {});
    assert.ok(models.models.find((m) => m.id === FIXTURE_MODEL)?.loaded);
    clients.forEach((c) => c.dispose());
  } finally {
    await shared.stop();
  }
});

// The research requests over a real JSON-RPC connection to `xraygpt serve --stdio` with the fixture models.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CancellationTokenSource, ResponseError, type MessageConnection } from "vscode-jsonrpc/node.js";
import {
  AnnotateProgressNotification,
  AnnotateRequest,
  ErrorCodes,
  EvaluateRequest,
  ReviewRequest,
  type AnnotateProgressParams,
  type AnnotateResult,
} from "@xraygpt/protocol";
import { FIXTURE_MODEL, LONG_MODEL, makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";
import { startStdioDaemon, type StdioDaemon } from "../testing/stdio-daemon.js";

let ws: TestWorkspace;
let daemon: StdioDaemon;
let rpc: MessageConnection;

before(async () => {
  ws = await makeTestWorkspace(6);
  daemon = await startStdioDaemon(ws.modelsDir, FIXTURE_MODEL);
  rpc = daemon.rpc;
});

after(async () => {
  await daemon.stop();
  await ws.cleanup();
});

interface LogLine {
  type: string;
  image: string;
  sha256: string;
  text?: string;
  error?: unknown;
  final?: string;
  draft?: string;
  editDistance?: { distance: number; normalized: number };
  reviewer?: string;
}
const readLog = (path: string): LogLine[] =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);

function collectProgress(jobId: string): { list: AnnotateProgressParams[]; stop(): void } {
  const list: AnnotateProgressParams[] = [];
  const d = rpc.onNotification(AnnotateProgressNotification, (p) => p.jobId === jobId && list.push(p));
  return { list, stop: () => d.dispose() };
}

test("annotate a folder: one log line per image, progress notifications with counts, a re-run skips them all", async () => {
  const out = join(ws.dir, "folder.jsonl");
  const progress = collectProgress("a1");
  const r = await rpc.sendRequest(AnnotateRequest, { jobId: "a1", folder: ws.dir, out, concurrency: 2 });
  progress.stop();
  assert.deepEqual({ total: r.total, annotated: r.annotated, failed: r.failed, skipped: r.skipped, cancelled: r.cancelled }, { total: 6, annotated: 6, failed: 0, skipped: 0, cancelled: 0 });
  assert.equal(r.jobId, "a1");
  assert.equal(r.model.id, FIXTURE_MODEL);
  const log = readLog(out);
  assert.deepEqual(log.map((l) => l.image).sort(), [...ws.images].sort());
  assert.ok(log.every((l) => l.type === "annotation" && !l.error && typeof l.text === "string"));
  assert.deepEqual(progress.list.map((p) => p.done), [1, 2, 3, 4, 5, 6], "one notification per image, in order");
  assert.ok(progress.list.every((p) => p.total === 6 && p.failed === 0 && p.skipped === 0));
  assert.deepEqual(progress.list.map((p) => p.current).sort(), [...ws.images].sort());
  assert.equal(typeof progress.list.at(-1)!.etaMs, "number");

  const again = collectProgress("a2");
  const r2 = await rpc.sendRequest(AnnotateRequest, { jobId: "a2", images: ws.images, out });
  again.stop();
  assert.deepEqual({ annotated: r2.annotated, skipped: r2.skipped }, { annotated: 0, skipped: 6 });
  assert.equal(again.list.at(-1)!.skipped, 6);
  assert.equal(readLog(out).length, 6);
});

test("$/cancelRequest stops the batch cleanly; a re-run finishes it with every image exactly once", async () => {
  const out = join(ws.dir, "cancelled.jsonl");
  const params = { out, images: ws.images, model: LONG_MODEL, concurrency: 1, generation: { maxTokens: 200 } };
  const source = new CancellationTokenSource();
  const progress = collectProgress("c1");
  const d = rpc.onNotification(AnnotateProgressNotification, (p) => p.jobId === "c1" && p.done === 1 && source.cancel());
  const first = await rpc.sendRequest(AnnotateRequest, { jobId: "c1", ...params }, source.token).catch((e: unknown) => e);
  d.dispose();
  progress.stop();
  if (first instanceof ResponseError) assert.equal(first.code, ErrorCodes.RequestCancelled);
  else {
    const r = first as AnnotateResult;
    assert.ok(r.cancelled > 0, `the batch stopped early (${JSON.stringify(r)})`);
    assert.equal(r.annotated + r.cancelled, 6);
  }
  const partial = readLog(out);
  assert.ok(partial.length >= 1 && partial.length < 6, `stopped mid-batch with ${partial.length} lines`);
  assert.ok(partial.every((l) => !l.error), "cancelled images are not recorded as failures");

  const second = await rpc.sendRequest(AnnotateRequest, { jobId: "c2", ...params });
  assert.equal(second.skipped, partial.length);
  assert.equal(second.annotated, 6 - partial.length);
  assert.equal(second.cancelled, 0);
  const log = readLog(out);
  assert.deepEqual(log.map((l) => l.image).sort(), [...ws.images].sort(), "each image exactly once");
  assert.equal(new Set(log.map((l) => l.sha256)).size, 6);
});

test("evaluate identical predictions and references: every score is 1", async () => {
  const texts = [
    "The heart size is normal. No pleural effusion or pneumothorax.",
    "Mild cardiomegaly. Small left pleural effusion. No pneumothorax.",
    "Right lower lobe opacity consistent with pneumonia. Heart size is normal.",
    "Lungs are clear. There is a small right pneumothorax.",
  ];
  const pred = join(ws.dir, "pred.jsonl");
  const ref = join(ws.dir, "refs.csv");
  writeFileSync(pred, texts.map((t, i) => JSON.stringify({ id: `r${i}`, text: t })).join("\n") + "\n");
  writeFileSync(ref, "uid,findings,impression,split\n" + texts.map((t, i) => `r${i},"${t}",,val`).join("\n") + "\nextra,Something else.,,train\n");
  const report = await rpc.sendRequest(EvaluateRequest, { pred, ref, where: { split: "val" }, out: join(ws.dir, "eval") });
  assert.equal(report.counts.pairs, 4);
  assert.equal(report.scores.n, 4);
  for (const m of report.scores.metrics) assert.equal(m.value, 1, m.name);
  assert.equal(report.scores.labels.micro.f1, 1);
  assert.equal(report.scores.labels.perLabel["Pleural Effusion"]!.f1, 1);
  assert.equal(report.scores.labels.perLabel["Pleural Effusion"]!.support, 1);
  assert.deepEqual(JSON.parse(readFileSync(join(ws.dir, "eval.json"), "utf8")).scores.metrics, report.scores.metrics);
  assert.match(readFileSync(join(ws.dir, "eval.md"), "utf8"), /# XrayGPT evaluation/);

  const again = await rpc.sendRequest(EvaluateRequest, { pred, ref, out: join(ws.dir, "eval") }).catch((e: unknown) => e);
  assert.ok(again instanceof ResponseError && again.code === ErrorCodes.InvalidParams, "existing outputs are never replaced");
  assert.match(again.message, /eval\.json.*already exist/);
  const badColumn = await rpc.sendRequest(EvaluateRequest, { pred, ref, idColumn: "nope" }).catch((e: unknown) => e);
  assert.ok(badColumn instanceof ResponseError && badColumn.code === ErrorCodes.InvalidParams);
  assert.match(badColumn.message, /refs\.csv: no column "nope"/);

  // Prediction ids by a field or a pattern (the editor's mapping question; the CLI's flags).
  const iu = join(ws.dir, "pred-iu.jsonl");
  writeFileSync(iu, texts.map((t, i) => JSON.stringify({ image: `/x/r${i}_IM-0001-4001.dcm.png`, study: `r${i}`, text: t })).join("\n") + "\n");
  const none = await rpc.sendRequest(EvaluateRequest, { pred: iu, ref }).catch((e: unknown) => e);
  assert.ok(none instanceof ResponseError);
  assert.match(none.message, /none of its 4 predictions has a reference .*first prediction id "r0_IM-0001-4001"/);
  assert.equal((await rpc.sendRequest(EvaluateRequest, { pred: iu, ref, idPattern: "^(r\\d+)_IM-", where: { split: "val" } })).counts.pairs, 4);
  assert.equal((await rpc.sendRequest(EvaluateRequest, { pred: iu, ref, predIdField: "study", where: { split: "val" } })).counts.pairs, 4);
});

test("review appends the final text beside the AI draft with the edit distance", async () => {
  const logPath = join(ws.dir, "folder.jsonl");
  const image = ws.images[2]!;
  const draft = readLog(logPath).find((l) => l.type === "annotation" && l.image === image)!.text!;
  const final = "Heart size normal. No acute cardiopulmonary process.";
  const r = await rpc.sendRequest(ReviewRequest, { log: logPath, image, final, reviewer: "dr-a" });
  assert.equal(r.type, "review");
  assert.equal(r.draft, draft, "the draft defaults to the image's annotation in the log");
  assert.equal(r.final, final);
  assert.equal(r.reviewer, "dr-a");
  assert.ok(r.editDistance.distance > 0);
  const last = readLog(logPath).at(-1)!;
  assert.equal(last.type, "review");
  assert.deepEqual({ image: last.image, final: last.final, distance: last.editDistance!.distance }, { image, final, distance: r.editDistance.distance });

  const same = await rpc.sendRequest(ReviewRequest, { log: logPath, image, final: "a b c", draft: "a x c" });
  assert.equal(same.editDistance.distance, 1);
  const missing = await rpc.sendRequest(ReviewRequest, { log: join(ws.dir, "empty.jsonl"), image, final }).catch((e: unknown) => e);
  assert.ok(missing instanceof ResponseError && missing.code === ErrorCodes.InvalidParams);
  assert.match(missing.message, /no annotation of .*image-2\.png/);
});

test("bad annotate params get specific errors", async () => {
  const both = await rpc.sendRequest(AnnotateRequest, { jobId: "x", folder: ws.dir, images: ws.images, out: join(ws.dir, "x.jsonl") }).catch((e: unknown) => e);
  assert.ok(both instanceof ResponseError && both.code === ErrorCodes.InvalidParams);
  assert.match(both.message, /exactly one of "images" and "folder"/);
  const empty = await rpc.sendRequest(AnnotateRequest, { jobId: "x", folder: join(ws.dir, "models", FIXTURE_MODEL), out: join(ws.dir, "x.jsonl") }).catch((e: unknown) => e);
  assert.ok(empty instanceof ResponseError && empty.code === ErrorCodes.InvalidParams);
  assert.match(empty.message, /no images/);
  const conc = await rpc.sendRequest(AnnotateRequest, { jobId: "x", images: ws.images, out: join(ws.dir, "x.jsonl"), concurrency: 0 }).catch((e: unknown) => e);
  assert.ok(conc instanceof ResponseError && conc.code === ErrorCodes.InvalidParams);
});

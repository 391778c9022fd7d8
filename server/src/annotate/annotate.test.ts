import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { XrayEngine } from "../engine/engine.js";
import { FIXTURE_MODEL, makeTestWorkspace, writeSyntheticPng, type TestWorkspace } from "../testing/workspace.js";
import { annotateBatch, type AnnotateProgress } from "./annotate.js";
import { appendReview } from "./review.js";
import { acquireLock } from "./lock.js";
import { isAnnotation, isReview, type AnnotationRecord, type LogRecord } from "./record.js";
import { readPredictions } from "../evaluate/predictions.js";
import { writeRemoteModel } from "../testing/remote-fixture.js";

let ws: TestWorkspace;
let engine: XrayEngine;
let images: string[];

before(async () => {
  ws = await makeTestWorkspace(5);
  engine = new XrayEngine({ modelsDirs: [ws.modelsDir], defaultModel: FIXTURE_MODEL, threads: 1 });
  const bad = join(ws.dir, "broken.png");
  writeFileSync(bad, "this is not a png");
  const dup = join(ws.dir, "same-as-0.png");
  await writeSyntheticPng(dup, 0);
  images = [...ws.images, bad, dup, join(ws.dir, "missing.png")];
});
after(async () => {
  await engine.dispose();
  await ws.cleanup();
});

const readLog = (path: string): LogRecord[] =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogRecord);

test("one record per image with provenance; failures are recorded and the batch goes on; a re-run skips everything", async () => {
  const out = join(ws.dir, "run1.jsonl");
  const progress: AnnotateProgress[] = [];
  const s = await annotateBatch({ engine, images, out, concurrency: 3, onProgress: (p) => progress.push(p) });
  assert.deepEqual({ annotated: s.annotated, failed: s.failed, skipped: s.skipped, cancelled: s.cancelled }, { annotated: 5, failed: 2, skipped: 1, cancelled: 0 });
  const log = readLog(out) as AnnotationRecord[];
  assert.equal(log.length, 7, "the duplicate image (same bytes) is annotated once");
  const ok = log.filter((r) => !r.error);
  for (const r of ok) {
    assert.match(r.sha256, /^[0-9a-f]{64}$/);
    assert.equal(r.model.id, FIXTURE_MODEL);
    assert.match(r.model.manifestHash, /^[0-9a-f]{64}$/);
    assert.equal(r.promptRequested, null);
    assert.equal(typeof r.prompt, "string");
    assert.equal(typeof r.generation.maxTokens, "number");
    assert.ok(r.findings!.labels.length > 0);
    assert.equal(typeof r.text, "string");
    assert.ok(r.timings!.totalMs > 0 && r.wallMs > 0);
  }
  const broken = log.find((r) => r.image.endsWith("broken.png"))!;
  assert.match(broken.error!.message, /broken\.png/);
  const missing = log.find((r) => r.image.endsWith("missing.png"))!;
  assert.match(missing.error!.message, /missing\.png: file not found \(ENOENT\)/);
  assert.equal(progress.at(-1)!.done, images.length);

  const again = await annotateBatch({ engine, images, out });
  assert.deepEqual({ annotated: again.annotated, failed: again.failed, skipped: again.skipped }, { annotated: 0, failed: 0, skipped: 8 });
  assert.equal(readLog(out).length, 7);

  const retry = await annotateBatch({ engine, images, out, retryFailed: true });
  assert.deepEqual({ annotated: retry.annotated, failed: retry.failed, skipped: retry.skipped }, { annotated: 0, failed: 2, skipped: 6 });
});

test("a different prompt is a different job; the lock refuses a concurrent batch on the same log", async () => {
  const out = join(ws.dir, "run2.jsonl");
  await annotateBatch({ engine, images: ws.images.slice(0, 2), out });
  const s = await annotateBatch({ engine, images: ws.images.slice(0, 2), out, prompt: "List the findings." });
  assert.equal(s.annotated, 2);
  const log = readLog(out).filter(isAnnotation);
  assert.deepEqual(log.map((r) => r.promptRequested), [null, null, "List the findings.", "List the findings."]);
  const lock = acquireLock(out);
  try {
    await assert.rejects(annotateBatch({ engine, images: ws.images, out }), /in use by process/);
  } finally {
    lock.release();
  }
});

test("cancelling stops the batch without writing records for unfinished images", async () => {
  const out = join(ws.dir, "run3.jsonl");
  const ac = new AbortController();
  const s = await annotateBatch({ engine, images: ws.images, out, concurrency: 1, signal: ac.signal, onProgress: () => ac.abort() });
  assert.equal(s.annotated, 1);
  assert.equal(s.cancelled, ws.images.length - 1);
  assert.equal(readLog(out).length, 1);
});

test("a review record holds the draft, the final text and their edit distance; evaluation reads the log", async () => {
  const out = join(ws.dir, "run4.jsonl");
  await annotateBatch({ engine, images: [ws.images[0]!], out });
  const draft = (readLog(out)[0] as AnnotationRecord).text!;
  const final = `${draft} Small left pleural effusion.`;
  const review = await appendReview(out, { image: ws.images[0]!, final, reviewer: "dr-a" });
  assert.equal(review.draft, draft);
  assert.equal(review.editDistance.distance, 4);
  const log = readLog(out);
  assert.ok(isReview(log[1]));
  await assert.rejects(appendReview(out, { image: ws.images[1]!, final: "x" }), /no annotation of .*image-1\.png/);
  const preds = readPredictions(out);
  assert.equal(preds.predictions.length, 1);
  assert.equal(preds.predictions[0]!.id, "image-0");
  assert.equal(preds.reviews, 1);
});

test("the log's order is the images' order at any concurrency (failed and duplicate images included)", async () => {
  const run = async (concurrency: number) => {
    const out = join(ws.dir, `order-${concurrency}.jsonl`);
    await annotateBatch({ engine, images, out, concurrency });
    return readFileSync(out, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as AnnotationRecord).image);
  };
  const serial = await run(1);
  assert.equal(serial.length, images.length - 1, "the duplicate is skipped");
  assert.deepEqual(await run(4), serial);
});

test("a remote model whose every endpoint is down stops the batch with an error naming each, and records nothing", async () => {
  const { createServer } = await import("node:http");
  const urls: string[] = [];
  for (let i = 0; i < 2; i++) {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    urls.push(`http://127.0.0.1:${(s.address() as { port: number }).port}/v1`);
    await new Promise<void>((r) => s.close(() => r()));
  }
  const dir = join(ws.dir, "down-models");
  await writeRemoteModel(dir, "all-down", { baseUrls: urls, model: "m", retries: 0 });
  const e2 = new XrayEngine({ modelsDirs: [dir], threads: 1 });
  const out = join(ws.dir, "down.jsonl");
  try {
    await assert.rejects(annotateBatch({ engine: e2, images: ws.images, out, model: "all-down", concurrency: 4 }), (e: Error) => {
      assert.equal(e.name, "AnnotateError");
      for (const u of urls) assert.ok(e.message.includes(`${u}: ECONNREFUSED`), e.message);
      return true;
    });
    assert.equal(readFileSync(out, "utf8"), "");
  } finally {
    await e2.dispose();
  }
});

// The acceptance scenario: annotate a folder of 50 synthetic images with the fixture model in a
// child process, kill -9 it mid-batch, re-run the same command, and find each image exactly once.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURE_MODEL, makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";
import { logLines as lines, runAnnotate, waitForLines, writeBatch } from "../testing/annotate-cli.js";
import type { AnnotationRecord } from "./record.js";

const COUNT = 50;
let ws: TestWorkspace;
let batch: string;
let images: string[];

before(async () => {
  ws = await makeTestWorkspace(0);
  ({ batch, images } = await writeBatch(ws.dir, COUNT));
});
after(() => ws.cleanup());

// Enough work per image (16 candidates of up to 48 tokens) that the batch is still running when
// the test has seen 5 records, checked the lock and killed it: records are written in order, so a
// fast model can otherwise finish all 50 between two polls.
function runCli(out: string) {
  return runAnnotate([batch, "--out", out, "--models-dir", ws.modelsDir, "--model", FIXTURE_MODEL, "--concurrency", "2", "--candidates", "16", "--max-tokens", "48", "--quiet"]);
}

test("kill -9 mid-batch, re-run: every image exactly once; a second process is refused meanwhile", { timeout: 300_000 }, async () => {
  const out = join(ws.dir, "annotations.jsonl");
  const first = runCli(out);
  await waitForLines(out, 5, first.done);

  const second = await runCli(out).done;
  assert.equal(second.code, 1, `${second.stderr}\n${second.stdout}\nlines ${lines(out).length}, first exited ${first.child.exitCode}`);
  assert.match(second.stderr, new RegExp(`in use by process ${first.child.pid}`));

  first.child.kill("SIGKILL");
  const killed = await first.done;
  assert.equal(killed.signal, "SIGKILL");
  const before = lines(out).length;
  assert.ok(before >= 5 && before < COUNT, `killed after ${before} records`);
  console.log(`# killed after ${before} of ${COUNT} records`);
  assert.ok(existsSync(`${out}.lock`), "the killed process left its lock behind");
  // A torn write as a crash inside write(2) would leave it (a real kill rarely lands there).
  const torn = '{"type":"annotation","schema":1,"image":"/half';
  appendFileSync(out, torn);

  const rerun = await runCli(out).done;
  assert.equal(rerun.code, 0, rerun.stderr + rerun.stdout + lines(out).filter((l) => l.includes("error")).join("\n"));
  assert.match(rerun.stderr, /cut short by an interrupted write/);
  assert.match(rerun.stdout, new RegExp(`${COUNT - before} annotated, 0 failed, ${before} already done of ${COUNT} images`));
  assert.equal(readFileSync(`${out}.corrupt`, "utf8"), torn + "\n");
  assert.ok(!existsSync(`${out}.lock`), "the lock is released at the end");

  const records = lines(out).map((l) => JSON.parse(l) as AnnotationRecord);
  assert.equal(records.length, COUNT);
  assert.deepEqual(records.map((r) => r.image), images, "in the folder's order, as at concurrency 1, across the kill");
  assert.equal(new Set(records.map((r) => r.sha256)).size, COUNT);
  assert.ok(records.every((r) => !r.error && typeof r.text === "string"));
});

test("--verbose says how the work runs in parallel; --threads, --replicas and --quorum are taken", { timeout: 120_000 }, async () => {
  const out = join(ws.dir, "verbose.jsonl");
  const run = await runAnnotate([batch, "--out", out, "--models-dir", ws.modelsDir, "--model", FIXTURE_MODEL, "--concurrency", "3", "--threads", "1", "--replicas", "2", "--candidates", "8", "--quorum", "0.5", "--max-tokens", "8", "--verbose"]).done;
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /parallelism: 3 image\(s\) in flight \(--concurrency\), 2 model process\(es\) \(--replicas\), 1 CPU thread\(s\) each \(--threads\)/);
  assert.match(run.stderr, /parallelism: 8 candidates per image in one batched generation \(--candidates\); once 4 have finished the rest are cut \(--quorum 0\.5\)/);
  const record = JSON.parse(lines(out)[0]!) as AnnotationRecord;
  assert.equal(record.generation.candidateQuorum, 0.5, "the log records the quorum");
  const bad = await runAnnotate([batch, "--out", join(ws.dir, "bad.jsonl"), "--threads", "0"]).done;
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--threads \(or XRAYGPT_THREADS\) needs an integer from 1 to 256 \(got 0\)/);
});

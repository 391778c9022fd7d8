// Scale-out: `xraygpt annotate --concurrency 8` against a remote model served by two
// `xraygpt serve --http` processes (real HTTP), one of which is killed mid-run; and the annotate
// process itself killed mid-run and re-run. Every image exactly once, in the folder's order.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { FIXTURE_MODEL, makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";
import { writeRemoteModel } from "../testing/remote-fixture.js";
import { startHttpDaemon, type HttpDaemon } from "../testing/http-daemon.js";
import { logLines, runAnnotate, waitForLines, writeBatch } from "../testing/annotate-cli.js";
import type { AnnotationRecord } from "./record.js";

const COUNT = 40;
let ws: TestWorkspace;
let batch: string;
let images: string[];
let remoteDir: string;
const servers: HttpDaemon[] = [];

async function serve(): Promise<HttpDaemon> {
  const s = await startHttpDaemon(["--models-dir", ws.modelsDir, "--no-auth"]);
  servers.push(s);
  return s;
}

/** Completed chat requests in a serving daemon's log. */
const served = (s: HttpDaemon) => (s.stderr().match(/http POST \/v1\/chat\/completions 200/g) ?? []).length;

before(async () => {
  ws = await makeTestWorkspace(0);
  ({ batch, images } = await writeBatch(ws.dir, COUNT));
  remoteDir = join(ws.dir, "remote-models");
});
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await ws.cleanup();
});

function checkLog(out: string): AnnotationRecord[] {
  const records = logLines(out).map((l) => JSON.parse(l) as AnnotationRecord);
  assert.equal(records.length, COUNT);
  assert.deepEqual(
    records.map((r) => r.image),
    images,
    "every image once, in the folder's order (as at concurrency 1)",
  );
  assert.equal(new Set(records.map((r) => r.sha256)).size, COUNT);
  for (const r of records) assert.ok(!r.error && typeof r.text === "string" && r.text.length > 0, JSON.stringify(r.error));
  return records;
}

test("--concurrency 8 over two serve --http endpoints, one killed mid-run: its work goes to the other, every image once, in order", { timeout: 300_000 }, async () => {
  const [a, b] = [await serve(), await serve()];
  await writeRemoteModel(remoteDir, "two-endpoints", { baseUrls: [a.url, b.url], model: FIXTURE_MODEL, maxConcurrency: 4 });
  const out = join(ws.dir, "two.jsonl");
  const run = runAnnotate([batch, "--out", out, "--models-dir", remoteDir, "--model", "two-endpoints", "--concurrency", "8", "--quiet"]);
  await waitForLines(out, 4, run.done);
  a.child.kill("SIGKILL");
  await new Promise((r) => a.child.once("exit", r));
  const atKill = { lines: logLines(out).length, byA: served(a) };
  assert.ok(atKill.byA > 0, "the first endpoint had served some of the batch");
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, new RegExp(`${COUNT} annotated, 0 failed, 0 already done of ${COUNT} images`));
  assert.ok(atKill.lines < COUNT, "killed mid-run");
  console.log(`# endpoint A killed after ${atKill.lines} records written, having served ${atKill.byA}; B served ${served(b)}`);
  assert.ok(served(b) > COUNT / 2, `after A's early death B did most of the work (B served ${served(b)}, A ${atKill.byA})`);
  const records = checkLog(out);
  assert.ok(new Set(records.map((x) => x.text)).size > 1, "the answers depend on the image");
});

test("the annotate process killed mid-run against two endpoints and re-run: every image exactly once, in order", { timeout: 300_000 }, async () => {
  const [a, b] = [await serve(), await serve()];
  await writeRemoteModel(remoteDir, "two-endpoints-b", { baseUrls: [a.url, b.url], model: FIXTURE_MODEL, maxConcurrency: 4 });
  const out = join(ws.dir, "rerun.jsonl");
  const args = [batch, "--out", out, "--models-dir", remoteDir, "--model", "two-endpoints-b", "--concurrency", "8", "--quiet"];
  const first = runAnnotate(args);
  await waitForLines(out, 5, first.done);
  first.child.kill("SIGKILL");
  assert.equal((await first.done).signal, "SIGKILL");
  const before = logLines(out).length;
  assert.ok(before >= 5 && before < COUNT, `killed after ${before} records`);
  assert.deepEqual(
    logLines(out).map((l) => (JSON.parse(l) as AnnotationRecord).image),
    images.slice(0, before),
    "the killed run's log is a prefix of the folder",
  );
  const rerun = await runAnnotate(args).done;
  assert.equal(rerun.code, 0, rerun.stderr + rerun.stdout);
  assert.match(rerun.stdout, new RegExp(`${COUNT - before} annotated, 0 failed, ${before} already done of ${COUNT} images`));
  checkLog(out);
  assert.ok(served(a) > 0 && served(b) > 0, `both endpoints served (${served(a)} / ${served(b)})`);
});

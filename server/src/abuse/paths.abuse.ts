// Abuse suite: every path a request names is guarded by the daemon's --allow-root (images,
// lists, logs, review logs, evaluation inputs and outputs), FIFOs never block a batch, review
// never appends to a file that is not an xraygpt log and a failed review changes nothing, and
// `serve --socket <regular file>` leaves the file alone.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AnnotateRequest, EvaluateRequest, ReviewRequest } from "@xraygpt/protocol";
import { FIXTURE_MODEL, makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";
import { startStdioDaemon, type StdioDaemon } from "../testing/stdio-daemon.js";
import { XrayEngine } from "../engine/engine.js";
import { annotateBatch } from "../annotate/annotate.js";
import { listImages } from "../annotate/images.js";
import { appendReview } from "../annotate/review.js";

const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));

let ws: TestWorkspace;
let inside: string;
let outside: string;
let daemon: StdioDaemon;

before(async () => {
  ws = await makeTestWorkspace(2);
  inside = join(ws.dir, "ws");
  outside = join(ws.dir, "outside");
  mkdirSync(inside);
  mkdirSync(outside);
  writeFileSync(join(outside, "secret.png"), readFileSync(ws.images[0]!));
  writeFileSync(join(inside, "a.png"), readFileSync(ws.images[0]!));
  symlinkSync(join(outside, "secret.png"), join(inside, "link-out.png"));
  execFileSync("mkfifo", [join(inside, "fifo.png")]);
  daemon = await startStdioDaemon(ws.modelsDir, FIXTURE_MODEL, { ...process.env, XRAYGPT_THREADS: "1" }, ["--allow-root", inside]);
});
after(async () => {
  await daemon?.stop();
  await ws.cleanup();
});

/** The request's error as { kind, message }, or fails when it succeeds. */
async function refused(p: Promise<unknown>): Promise<{ kind?: string; message: string }> {
  const e = await p.then(
    (r) => assert.fail(`expected a refusal, got ${JSON.stringify(r).slice(0, 200)}`),
    (err: unknown) => err as { data?: { kind?: string }; message: string },
  );
  return { kind: e.data?.kind, message: e.message };
}

describe("the daemon's --allow-root guards every path", () => {
  test("annotate: an image outside, or a symlink out, is recorded as PathNotAllowed and never hashed", async () => {
    const out = join(inside, "run.jsonl");
    const r = await daemon.rpc.sendRequest(AnnotateRequest, { jobId: "a1", images: [join(outside, "secret.png"), join(inside, "link-out.png"), join(inside, "a.png")], out });
    assert.equal(r.annotated, 1);
    const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { image: string; sha256: string; error?: { kind: string } });
    const refusedLines = lines.filter((l) => l.error);
    assert.equal(refusedLines.length, 2);
    for (const l of refusedLines) {
      assert.equal(l.error!.kind, "PathNotAllowed");
      assert.equal(l.sha256, "", "no hash of a file outside the roots");
    }
  });

  test("annotate: --out outside (also through ../) and a folder outside are refused, nothing written", async () => {
    for (const out of [join(outside, "x.jsonl"), `${inside}/../outside/../outside/y.jsonl`]) {
      const e = await refused(daemon.rpc.sendRequest(AnnotateRequest, { jobId: "a2", images: [join(inside, "a.png")], out }));
      assert.equal(e.kind, "PathNotAllowed", e.message);
    }
    const e = await refused(daemon.rpc.sendRequest(AnnotateRequest, { jobId: "a3", folder: outside, out: join(inside, "z.jsonl") }));
    assert.equal(e.kind, "PathNotAllowed", e.message);
    assert.deepEqual(readdirSync(outside).sort(), ["secret.png"]);
  });

  test("annotate: a FIFO in the batch is an error record, the batch finishes", { timeout: 60_000 }, async () => {
    const out = join(inside, "fifo-run.jsonl");
    const r = await daemon.rpc.sendRequest(AnnotateRequest, { jobId: "a4", images: [join(inside, "fifo.png"), join(inside, "a.png")], out });
    assert.equal(r.total, 2);
    assert.equal(r.failed, 1);
    assert.match(readFileSync(out, "utf8"), /FIFO/);
  });

  test("evaluate: inputs and outputs outside are refused", async () => {
    writeFileSync(join(inside, "pred.jsonl"), JSON.stringify({ id: "1", text: "no acute disease" }) + "\n");
    writeFileSync(join(inside, "ref.csv"), "uid,findings,impression\n1,normal,no acute disease\n");
    writeFileSync(join(outside, "ref.csv"), "uid,findings,impression\n1,normal,no acute disease\n");
    const ok = await daemon.rpc.sendRequest(EvaluateRequest, { pred: join(inside, "pred.jsonl"), ref: join(inside, "ref.csv"), out: join(inside, "eval") });
    assert.ok(ok);
    for (const params of [
      { pred: join(inside, "pred.jsonl"), ref: join(outside, "ref.csv") },
      { pred: join(inside, "pred.jsonl"), ref: join(inside, "ref.csv"), out: `${inside}/../outside/../../x` },
      { pred: join(inside, "pred.jsonl"), ref: join(inside, "ref.csv"), out: join(inside, "link-out.png", "..", "..", "outside", "e") },
    ]) {
      const e = await refused(daemon.rpc.sendRequest(EvaluateRequest, params));
      assert.equal(e.kind, "PathNotAllowed", e.message);
    }
    assert.ok(!existsSync(join(ws.dir, "x.json")));
    assert.deepEqual(readdirSync(outside).sort(), ["ref.csv", "secret.png"]);
  });

  test("review: a log outside is refused; a script is never appended to; a failed review changes nothing", async () => {
    const e = await refused(daemon.rpc.sendRequest(ReviewRequest, { log: join(outside, "r.jsonl"), image: join(inside, "a.png"), final: "x", draft: "y" }));
    assert.equal(e.kind, "PathNotAllowed", e.message);
    const script = join(inside, "build.sh");
    writeFileSync(script, "#!/bin/sh\necho hello\nrm -rf half-written");
    const before = readFileSync(script);
    const e2 = await refused(daemon.rpc.sendRequest(ReviewRequest, { log: script, image: join(inside, "a.png"), final: '"$(touch pwned)"', draft: "y" }));
    assert.match(e2.message, /not an xraygpt annotation log/);
    assert.deepEqual(readFileSync(script), before);
    assert.ok(!existsSync(`${script}.corrupt`));
    // An xraygpt log with a torn last line: a review that fails (no draft) leaves it byte for byte.
    const log = join(inside, "torn.jsonl");
    writeFileSync(log, JSON.stringify({ type: "annotation", schema: 1, image: "/x.png", sha256: "00" }) + '\n{"type":"annotation","sch');
    const torn = readFileSync(log);
    await refused(daemon.rpc.sendRequest(ReviewRequest, { log, image: join(inside, "a.png"), final: "x" }));
    assert.deepEqual(readFileSync(log), torn);
    assert.ok(!existsSync(`${log}.corrupt`));
  });
});

describe("in-process guards", () => {
  test("annotate --out that is not an xraygpt log is refused untouched; a FIFO list is refused", async () => {
    const engine = new XrayEngine({ modelsDirs: [ws.modelsDir], defaultModel: FIXTURE_MODEL, threads: 1 });
    try {
      const notes = join(inside, "notes.txt");
      writeFileSync(notes, "my notes\n");
      await assert.rejects(annotateBatch({ engine, images: [join(inside, "a.png")], out: notes }), /not an xraygpt annotation log/);
      assert.equal(readFileSync(notes, "utf8"), "my notes\n");
      execFileSync("mkfifo", [join(inside, "list.txt")]);
      assert.throws(() => listImages(join(inside, "list.txt")), /FIFO/);
      await assert.rejects(appendReview(join(inside, "fifo.png"), { image: join(inside, "a.png"), final: "x", draft: "y" }), /FIFO/);
    } finally {
      await engine.dispose();
    }
  });

  test("serve --socket naming a regular file leaves it in place", () => {
    const file = join(inside, "important.txt");
    writeFileSync(file, "keep me\n");
    const r = spawnSync(process.execPath, [CLI, "serve", "--socket", file, "--models-dir", ws.modelsDir], { encoding: "utf8", timeout: 20_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /not a socket/);
    assert.equal(readFileSync(file, "utf8"), "keep me\n");
  });
});

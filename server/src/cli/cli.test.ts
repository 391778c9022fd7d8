import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FIXTURE_MODEL, makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";

const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));
let ws: TestWorkspace;

function xraygpt(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", input, env: { ...process.env, XRAYGPT_THREADS: "1" }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => (ws = await makeTestWorkspace(2)));
after(() => ws.cleanup());

test("--version prints the server package's version", () => {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8")) as { version: string };
  const r = xraygpt(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test("--help lists every command and each command has its own help", () => {
  const top = xraygpt(["--help"]);
  assert.equal(top.code, 0);
  for (const c of ["summarize", "chat", "findings", "models", "serve"]) {
    assert.match(top.stdout, new RegExp(`\\b${c}\\b`));
    const sub = xraygpt([c, "--help"]);
    assert.equal(sub.code, 0, c);
    assert.match(sub.stdout, new RegExp(`Usage: xraygpt ${c}`));
  }
});

test("summarize prints the vision findings and the streamed summary", () => {
  const r = xraygpt(["summarize", ws.images[0]!, "--models-dir", ws.modelsDir, "--model", FIXTURE_MODEL]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Vision findings:\n\s+Pneumonia\s+0\.\d{3}/);
  assert.match(r.stderr, /fixture-tiny 0\.0\.1 · \d+ tokens/);
});

test("summarize with consensus decoding prints only the chosen answer on stdout", () => {
  const args = ["summarize", ws.images[0]!, "--models-dir", ws.modelsDir, "--model", FIXTURE_MODEL, "--candidates", "6", "--max-tokens", "12"];
  const json = xraygpt([...args, "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const result = JSON.parse(json.stdout);
  assert.equal(result.timings.candidates, 6);
  const r = xraygpt(args);
  assert.equal(r.code, 0, r.stderr);
  // The findings block, then the answer (once: no provisional draft before it).
  const answer = r.stdout.slice(r.stdout.indexOf("\n\n") + 2);
  assert.equal(answer.trim(), result.text);
  assert.doesNotMatch(r.stderr, /draft:/, "no draft status line when stderr is not a terminal");
});

test("summarize --json gives the whole result", () => {
  const r = xraygpt(["summarize", ws.images[1]!, "--json", "--models-dir", ws.modelsDir, "--model", FIXTURE_MODEL, "--max-tokens", "6"]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.model.id, FIXTURE_MODEL);
  assert.equal(result.generation.maxTokens, 6);
  assert.ok(result.timings.tokens <= 6);
  assert.equal(typeof result.text, "string");
});

test("findings and models", () => {
  const f = xraygpt(["findings", ws.images[0]!, "--models-dir", ws.modelsDir, "--model", FIXTURE_MODEL]);
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stdout, /Assessed: Pneumonia (positive|negative)/);
  const m = xraygpt(["models", "--json", "--models-dir", ws.modelsDir]);
  assert.equal(m.code, 0, m.stderr);
  assert.ok(JSON.parse(m.stdout).some((x: { id: string; available: boolean }) => x.id === FIXTURE_MODEL && x.available));
});

test("chat answers each line of stdin in one conversation", () => {
  const r = xraygpt(["chat", ws.images[0]!, "--models-dir", ws.modelsDir, "--model", FIXTURE_MODEL, "--max-tokens", "5"], "Is there a pleural effusion?\nHow is the heart size?\n");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split("\n").filter(Boolean).length >= 1, true);
});

test("errors: non-zero exit and a message naming the cause", () => {
  const missing = xraygpt(["summarize", "/nonexistent/chest.dcm", "--models-dir", ws.modelsDir, "--model", FIXTURE_MODEL]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /chest\.dcm/);
  const noModel = xraygpt(["summarize", ws.images[0]!, "--model", "not-installed"]);
  assert.equal(noModel.code, 1);
  assert.match(noModel.stderr, /"not-installed" is not installed/);
  const usage = xraygpt(["summarize"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /exactly one IMAGE/);
  const unknown = xraygpt(["frobnicate"]);
  assert.equal(unknown.code, 2);
  const badFlag = xraygpt(["summarize", ws.images[0]!, "--max-tokens", "lots"]);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--max-tokens needs a number/);
});

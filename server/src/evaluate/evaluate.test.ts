import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluateFiles } from "./run.js";
import { command } from "../cli/commands/evaluate.js";

const REPORTS = [
  ["1", "Mild cardiomegaly. Small left pleural effusion, with adjacent atelectasis.", "Cardiomegaly and effusion.", "val"],
  ["2", "The heart size is normal.\nThe lungs are clear.", 'No acute disease, "normal" study.', "val"],
  ["3", "Right lower lobe opacity may represent pneumonia.", "", "val"],
  ["4", "", "", "val"],
  ["5", "Pacemaker in place. No pneumothorax.", "Stable.", "train"],
];

function fixture(): { dir: string; refs: string } {
  const dir = mkdtempSync(join(tmpdir(), "xraygpt-eval-"));
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const refs = join(dir, "reports.csv");
  writeFileSync(refs, ["uid,findings,impression,split", ...REPORTS.map((r) => r.map(q).join(","))].join("\r\n") + "\r\n");
  return { dir, refs };
}

const refText = (r: string[]) => [r[1], r[2]].filter((t) => t).join(" ");

test("references as predictions score 1 everywhere; counts are reported", () => {
  const { dir, refs } = fixture();
  const pred = join(dir, "pred.jsonl");
  const lines = REPORTS.filter((r) => r[3] === "val" && refText(r)).map((r) => JSON.stringify({ id: r[0], text: refText(r) }));
  lines.push(JSON.stringify({ id: "99", text: "no such report" }));
  lines.push(JSON.stringify({ type: "annotation", image: "/x/2_a.png", sha256: "00", error: { message: "bad image" } }));
  lines.push('{"id": "1", "te'); // a half-written line
  writeFileSync(pred, lines.join("\n") + "\n");
  const report = evaluateFiles(pred, refs, { predictions: {}, references: { where: { split: "val" } }, scores: { bootstrap: 50 } });
  assert.deepEqual(report.counts, { pairs: 3, unmatchedPredictions: 1, referencesWithoutPrediction: 0, emptyReferences: 1, failedPredictions: 1, skippedLines: 1 });
  for (const m of report.scores.metrics) {
    assert.equal(m.value, 1, m.name);
    assert.deepEqual(m.ci95, { low: 1, high: 1 }, m.name);
  }
  assert.equal(report.scores.labels.perLabel["Cardiomegaly"]!.support, 1);
  assert.equal(report.scores.labels.perLabel["Pneumonia"]!.tp, 1, "uncertain counts as positive");
});

test("annotation records are matched by image file name through --id-pattern; wrong predictions score below 1", () => {
  const { dir, refs } = fixture();
  const pred = join(dir, "ann.jsonl");
  const rec = (image: string, text: string) => JSON.stringify({ type: "annotation", schema: 1, image, sha256: "ab", text });
  writeFileSync(pred, [rec("/imgs/1_IM-0001-4001.dcm.png", "The heart size is normal. The lungs are clear."), rec("/imgs/2_IM-0002-1001.png", refText(REPORTS[1]!))].join("\n") + "\n");
  const report = evaluateFiles(pred, refs, { predictions: { idPattern: String.raw`^(\d+)_` }, references: {}, scores: { bootstrap: 20 } });
  assert.equal(report.counts.pairs, 2);
  const rouge1 = report.scores.metrics.find((m) => m.name === "ROUGE-1")!;
  assert.equal(rouge1.value, 0.5, "pair 1 shares no word with its reference, pair 2 is identical");
  assert.equal(report.scores.labels.perLabel["Cardiomegaly"]!.fn, 1);
  assert.throws(() => evaluateFiles(pred, refs, { predictions: {}, references: {}, scores: {} }), /none of its 2 predictions has a reference.*first prediction id "1_IM-0001-4001"/);
  assert.throws(() => evaluateFiles(pred, refs, { predictions: {}, references: { idColumn: "id" }, scores: {} }), /reports\.csv: no column "id"/);
});

test("the CLI prints the table, writes PREFIX.md and PREFIX.json, and never replaces them", async () => {
  const { dir, refs } = fixture();
  const pred = join(dir, "pred.jsonl");
  writeFileSync(pred, JSON.stringify({ id: "1", text: refText(REPORTS[0]!) }) + "\n");
  const out = join(dir, "result");
  let stdout = "";
  const io = { stdout: (t: string) => void (stdout += t), stderr: () => {} };
  assert.equal(await command.run(["--pred", pred, "--ref", refs, "--out", out, "--bootstrap", "10"], io), 0);
  assert.match(stdout, /ROUGE-L\s+1\.0000/);
  assert.match(stdout, /Pleural Effusion\s+1\.0000\s+1\.0000\s+1\.0000/);
  assert.ok(existsSync(`${out}.md`));
  const json = JSON.parse(readFileSync(`${out}.json`, "utf8"));
  assert.equal(json.counts.pairs, 1);
  assert.match(readFileSync(`${out}.md`, "utf8"), /\| BLEU-4 \| 1\.0000 \|/);
  await assert.rejects(command.run(["--pred", pred, "--ref", refs, "--out", out], io), /already exist/);
  await assert.rejects(command.run(["--ref", refs], io), /needs --pred/);
  await assert.rejects(command.run(["--pred", pred, "--ref", refs, "--uncertain", "maybe"], io), /--uncertain must be/);
});

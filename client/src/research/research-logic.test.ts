import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { applyEdit, appendDraftEdit, finishDraftEdit, newReportText, streamInsertEdit } from "xraygpt/daemon/report/report-format";
import { annotateProgressMessage, formatDuration, parseWhere, reviewFinalText, reviewOfReport } from "./research-logic.js";

test("annotate progress text: counts, failures, skips and the ETA", () => {
  assert.equal(annotateProgressMessage({ jobId: "j", done: 3, total: 50, failed: 1, skipped: 0, etaMs: 125_000 }), "3/50 images · 1 failed · ETA 2 min 05 s");
  assert.equal(annotateProgressMessage({ jobId: "j", done: 2, total: 5, failed: 0, skipped: 2 }), "2/5 images · 2 already done · ETA estimating…");
  assert.equal(annotateProgressMessage({ jobId: "j", done: 5, total: 5, failed: 0, skipped: 0, etaMs: 0 }), "5/5 images");
  assert.deepEqual([formatDuration(400), formatDuration(59_400), formatDuration(3_723_000)], ["0 s", "59 s", "1 h 02 min"]);
});

test("reference filter: COLUMN=VALUE pairs, with a reason when malformed", () => {
  assert.deepEqual(parseWhere(""), { ok: true, where: {} });
  assert.deepEqual(parseWhere(" split=val , view = PA"), { ok: true, where: { split: "val", view: "PA" } });
  const bad = parseWhere("split");
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.reason : "", /"split" is not COLUMN=VALUE/);
  assert.equal(parseWhere("=val").ok, false);
});

function report(extraFrontMatter: string, draft: string, edited?: string): string {
  let text = newReportText({ image: "img/chest.png", model: "m", modelVersion: "1", time: "2025-01-01T00:00:00.000Z" }, "chest.png").replace("status: draft\n", `status: draft\n${extraFrontMatter}`);
  text = applyEdit(text, appendDraftEdit(text, { jobId: "j", model: "m@1", time: "2025-01-01T00:00:00.000Z" }));
  text = applyEdit(text, streamInsertEdit(text, "j", draft)!);
  text = applyEdit(text, finishDraftEdit(text, "j", "complete")!);
  return edited ? text.replace("## Impression\n", `## Impression\n\n${edited}\n`) : text;
}

test("what Mark reviewed records: nothing without annotationLog; else log and image resolved beside the report, the final sections' text", () => {
  const dir = join("/", "data", "reports");
  const reportPath = join(dir, "chest.png.report.md");
  assert.equal(reviewOfReport(reportPath, report("", "No acute disease.")), undefined);
  const text = report("annotationLog: ../run.jsonl\n", "Findings: clear lungs.", "No acute cardiopulmonary process.");
  const r = reviewOfReport(reportPath, text);
  assert.ok(r && !("problem" in r));
  assert.equal(r.log, join("/", "data", "run.jsonl"));
  assert.equal(r.image, join(dir, "img", "chest.png"));
  assert.equal(r.final, "No acute cardiopulmonary process.", "Impression text; the AI-draft section (not Findings/Impression) is not the final report");
  assert.equal(reviewFinalText("## Findings\n\nClear lungs.\n\n## Impression\n\nNormal.\n"), "Clear lungs.\n\nNormal.");
  const inPlace = reviewOfReport(reportPath, report("annotationLog: run.jsonl\n", "Edited in place: no effusion."));
  assert.ok(inPlace && !("problem" in inPlace));
  assert.equal(inPlace.final, "Edited in place: no effusion.", "empty sections: the draft blocks as edited");
  const empty = reviewOfReport(reportPath, report("annotationLog: run.jsonl\n", ""));
  assert.deepEqual(empty, { problem: "the report's Findings and Impression (and AI drafts) are empty" });
});

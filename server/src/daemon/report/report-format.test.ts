import { test } from "node:test";
import assert from "node:assert/strict";
import {
  appendDraftEdit,
  applyEdit,
  finishDraftEdit,
  findSection,
  insertDraftInSectionEdit,
  newReportText,
  parseDrafts,
  parseFrontMatter,
  parseReport,
  setStatusEdit,
  streamInsertEdit,
} from "./report-format.js";
import { imageFieldFor, reportPathFor, resolveImageField } from "./report-paths.js";

const meta = { image: "img/chest 1.png", model: "xraygpt-mini", modelVersion: "0.1.0", time: "2025-01-02T03:04:05.000Z" };
const draft = { jobId: "j1", model: "xraygpt-mini@0.1.0", time: "2025-01-02T03:04:05.000Z" };

function stream(text: string, jobId: string, tokens: string[]): string {
  for (const t of tokens) {
    const e = streamInsertEdit(text, jobId, t);
    assert.ok(e, "stream marker present");
    text = applyEdit(text, e);
  }
  return text;
}

test("a new report has front matter, title and both sections", () => {
  const text = newReportText(meta, "chest 1.png");
  const r = parseReport(text);
  assert.equal(r.frontMatter?.fields.get("image")?.value, "img/chest 1.png");
  assert.equal(r.frontMatter?.fields.get("status")?.value, "draft");
  assert.equal(r.frontMatter?.fields.get("modelVersion")?.value, "0.1.0");
  assert.ok(findSection(r, "Findings"));
  assert.ok(findSection(r, "impression"));
  assert.equal(r.drafts.length, 0);
});

test("streaming appends into a draft block and never changes existing text", () => {
  const user = newReportText(meta, "x") + "My own words.\n";
  let text = applyEdit(user, appendDraftEdit(user, draft));
  assert.ok(text.startsWith(user), "existing text is a prefix");
  text = stream(text, "j1", ["The lungs", " are clear.", "\nNo effusion."]);
  let d = parseDrafts(text);
  assert.equal(d.length, 1);
  assert.equal(d[0]!.state, "streaming");
  assert.equal(d[0]!.text, "The lungs are clear.\nNo effusion.");
  text = applyEdit(text, finishDraftEdit(text, "j1", "complete")!);
  d = parseDrafts(text);
  assert.equal(d[0]!.state, "complete");
  assert.equal(d[0]!.text, "The lungs are clear.\nNo effusion.");
  assert.ok(text.startsWith(user));
  assert.equal(streamInsertEdit(text, "j1", "more"), undefined, "a finished block takes no more text");
});

test("an interrupted stream keeps its partial text and says so", () => {
  let text = applyEdit("", appendDraftEdit("", draft));
  text = stream(text, "j1", ["Partial"]);
  text = applyEdit(text, finishDraftEdit(text, "j1", "interrupted", "the daemon stopped")!);
  const d = parseDrafts(text)[0]!;
  assert.equal(d.state, "interrupted");
  assert.match(d.text, /^Partial/);
  assert.match(text, /Interrupted:\*\* the daemon stopped\. The text above is partial/);
});

test("a second draft is appended after the first, each with its own markers", () => {
  let text = applyEdit("", appendDraftEdit("", draft));
  text = stream(text, "j1", ["one"]);
  text = applyEdit(text, appendDraftEdit(text, { ...draft, jobId: "j2" }));
  text = stream(text, "j2", ["two"]);
  text = stream(text, "j1", [" more"]);
  const d = parseDrafts(text);
  assert.deepEqual(d.map((x) => [x.jobId, x.text]), [["j1", "one more"], ["j2", "two"]]);
});

test("a draft is inserted at the end of a section, before the next heading", () => {
  const base = newReportText(meta, "x").replace("## Findings\n", "## Findings\n\nHeart normal.\n");
  let text = applyEdit(base, insertDraftInSectionEdit(base, "Findings", draft));
  text = stream(text, "j1", ["Lungs clear."]);
  const r = parseReport(text);
  const f = findSection(r, "Findings")!;
  const body = text.slice(f.bodyStart, f.end);
  assert.match(body, /Heart normal\.\n\n<!-- xraygpt:draft begin job=j1 [^\n]*\nLungs clear\.\n<!-- xraygpt:draft end/);
  assert.ok(text.includes("\n## Impression\n"));
  assert.ok(r.drafts[0]!.start > f.start && r.drafts[0]!.end < findSection(r, "Impression")!.start);
});

test("a missing section is created at the end", () => {
  const base = "---\nimage: a.png\nstatus: draft\n---\n\n## Findings\n\nok\n";
  const text = applyEdit(base, insertDraftInSectionEdit(base, "Impression", draft));
  assert.ok(text.startsWith(base));
  assert.ok(findSection(parseReport(text), "Impression"));
});

test("status edits touch only the status value", () => {
  const base = newReportText(meta, "x");
  const text = applyEdit(base, setStatusEdit(base, "reviewed")!);
  assert.equal(parseFrontMatter(text)?.fields.get("status")?.value, "reviewed");
  assert.equal(text.replace("status: reviewed", "status: draft"), base);
  const noStatus = "---\nimage: a.png\n---\nbody\n";
  assert.equal(parseFrontMatter(applyEdit(noStatus, setStatusEdit(noStatus, "reviewed")!))?.fields.get("status")?.value, "reviewed");
  assert.equal(setStatusEdit("no front matter", "reviewed"), undefined);
});

test("headings inside code fences are not sections", () => {
  const r = parseReport("## Findings\n```\n## Impression\n```\n");
  assert.deepEqual(r.sections.map((s) => s.name), ["Findings"]);
});

test("report paths: beside the image, or in a reports folder; image field round-trips", () => {
  assert.equal(reportPathFor("/w/img/a.dcm"), "/w/img/a.dcm.report.md");
  assert.equal(reportPathFor("/w/img/a.dcm", "reports", "/w"), "/w/reports/a.dcm.report.md");
  const rp = reportPathFor("/w/img/a b.png", "reports", "/w");
  const field = imageFieldFor(rp, "/w/img/a b.png");
  assert.equal(field, "../img/a b.png");
  assert.equal(resolveImageField(rp, field), "/w/img/a b.png");
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { applyEdit, appendDraftEdit, finishDraftEdit, newReportText, parseReport, streamInsertEdit } from "xraygpt/daemon/report/report-format";
import {
  candidatesText,
  changesSince,
  draftedRanges,
  draftedValue,
  draftHover,
  emptyProvenance,
  exportMarkdown,
  exportPlainText,
  freeName,
  newRadiologyReport,
  parseProvenance,
  provenancePathFor,
  REPORT_SECTIONS,
  sectionBody,
  setFieldEdit,
  setSectionBodyEdit,
  splitSummary,
  StreamedText,
  withDraft,
  type DraftRecord,
} from "./report-document.js";
import { batchSummary, draftMessage, stageText } from "./draft-messages.js";

const meta = { image: "chest.png", model: "xraygpt-mini", modelVersion: "0.2.0", time: "2026-01-02T03:04:05.000Z" };
const rec = (section: "Findings" | "Impression", text: string, over: Partial<DraftRecord> = {}): DraftRecord => ({
  section,
  jobId: "0123456789abcdef",
  model: "xraygpt-mini",
  modelVersion: "0.2.0",
  time: "2026-01-02T03:04:06.000Z",
  state: "complete",
  text,
  ...over,
});

test("a new report has the five sections in ACR order, empty, and no markup", () => {
  const t = newRadiologyReport(meta, "chest.png");
  const names = parseReport(t).sections.map((s) => s.name);
  assert.deepEqual(names, ["Report: chest.png", ...REPORT_SECTIONS]);
  for (const s of REPORT_SECTIONS) assert.equal(sectionBody(t, s)?.text, "");
  assert.doesNotMatch(t, /<!--/);
  assert.match(t, /^---\nimage: chest\.png\nmodel: xraygpt-mini\nmodelVersion: 0\.2\.0\ntime: 2026-01-02T03:04:05\.000Z\nstatus: draft\n---\n/);
});

test("a summary splits into Findings and Impression at its headings", () => {
  assert.deepEqual(splitSummary("Findings: The heart is normal. Impression: No acute disease."), { findings: "The heart is normal.", impression: "No acute disease." });
  assert.deepEqual(splitSummary("findings:\nClear lungs.\n\nIMPRESSION:  Normal chest."), { findings: "Clear lungs.", impression: "Normal chest." });
  assert.deepEqual(splitSummary("Clear lungs. No effusion."), { findings: "Clear lungs. No effusion.", impression: "" }, "no heading: all findings");
  assert.deepEqual(splitSummary("Findings: Clear lungs. Impressi"), { findings: "Clear lungs. Impressi", impression: "" }, "a heading still streaming stays in findings");
});

test("filling sections in place streams, replaces its own text and leaves the rest of the report as it was", () => {
  let t = newRadiologyReport(meta, "chest.png");
  const before = t;
  t = applyEdit(t, setSectionBodyEdit(t, "Findings", "The heart"));
  t = applyEdit(t, setSectionBodyEdit(t, "Findings", "The heart is normal."));
  t = applyEdit(t, setSectionBodyEdit(t, "Impression", "Normal chest."));
  assert.equal(sectionBody(t, "Findings")?.text, "The heart is normal.");
  assert.equal(sectionBody(t, "Impression")?.text, "Normal chest.");
  assert.match(t, /## Comparison\n\n## Findings\n\nThe heart is normal\.\n\n## Impression\n\nNormal chest\.\n$/);
  // Emptying them again gives back the report as created, byte for byte.
  t = applyEdit(t, setSectionBodyEdit(t, "Findings", ""));
  t = applyEdit(t, setSectionBodyEdit(t, "Impression", ""));
  assert.equal(t, before);
});

test("a missing section is created in ACR order, before the first later one", () => {
  const t = "---\nimage: a.png\n---\n\n# Report\n\n## Findings\n\nX.\n";
  const withIndication = applyEdit(t, setSectionBodyEdit(t, "Indication", "Cough."));
  assert.match(withIndication, /## Indication\n\nCough\.\n\n## Findings\n\nX\.\n$/);
  const withImpression = applyEdit(t, setSectionBodyEdit(t, "Impression", "Fine."));
  assert.match(withImpression, /## Findings\n\nX\.\n\n## Impression\n\nFine\.\n\n$/);
});

test("an old-format report (AI-draft block with markers) keeps all its text when a summary fills its sections", () => {
  let old = newReportText(meta, "chest.png");
  old = applyEdit(old, appendDraftEdit(old, { jobId: "j1", model: "xraygpt-mini@0.1.0", time: "2025-01-01T00:00:00Z" }));
  old = applyEdit(old, streamInsertEdit(old, "j1", "Old drafted words.")!);
  old = applyEdit(old, finishDraftEdit(old, "j1", "complete")!);
  assert.equal(sectionBody(old, "Findings")?.text, "", "the old report's Findings is empty");
  let t = applyEdit(old, setSectionBodyEdit(old, "Findings", "New findings."));
  t = applyEdit(t, setSectionBodyEdit(t, "Impression", "New impression."));
  assert.ok(t.includes("Old drafted words."));
  assert.equal(parseReport(t).drafts.length, 1, "the old draft block is intact");
  assert.equal(sectionBody(t, "Findings")?.text, "New findings.");
  // Every line of the old report is still there, in order.
  const lines = t.split("\n");
  let i = 0;
  for (const l of old.split("\n")) {
    while (i < lines.length && lines[i] !== l) i++;
    assert.ok(i < lines.length, `line kept: ${l}`);
  }
});

test("streamed text: appended, replaced by the chosen answer, provisional flagged; first text time kept", () => {
  let now = 100;
  const s = new StreamedText(() => now);
  s.apply({ text: "", provisional: true });
  assert.equal(s.firstTextAt, undefined);
  now = 150;
  s.apply({ text: "Findings: The", provisional: true });
  now = 200;
  s.apply({ text: " heart", provisional: true });
  assert.deepEqual([s.text, s.provisional, s.firstTextAt], ["Findings: The heart", true, 150]);
  s.apply({ text: "Findings: Clear lungs.", replace: true });
  assert.deepEqual([s.text, s.provisional], ["Findings: Clear lungs.", false]);
  s.apply({ text: " Impression: Normal." });
  assert.equal(s.text, "Findings: Clear lungs. Impression: Normal.");
  assert.equal(candidatesText({ done: 2, total: 5 }), "2 of 5 candidates");
  assert.equal(candidatesText({ done: 1, total: 1 }), undefined);
});

test("provenance: one record per section, drafted ranges and what the user changed since", () => {
  let t = newRadiologyReport(meta, "chest.png");
  t = applyEdit(t, setSectionBodyEdit(t, "Findings", "The heart is normal. Lungs are clear."));
  t = applyEdit(t, setSectionBodyEdit(t, "Impression", "Normal chest."));
  let p = emptyProvenance("chest.png.report.md");
  p = withDraft(p, rec("Findings", "The heart is normal."));
  p = withDraft(p, rec("Findings", "The heart is normal. Lungs are clear."));
  p = withDraft(p, rec("Impression", "Normal chest.", { state: "interrupted", reason: "cancelled" }));
  assert.equal(p.drafts.length, 2);
  assert.equal(draftedValue(p), "Findings, Impression");
  const ranges = draftedRanges(t, p);
  assert.deepEqual(ranges.map((r) => t.slice(r.start, r.end)), ["The heart is normal. Lungs are clear.", "Normal chest."]);
  assert.deepEqual(changesSince(t, p).map((c) => c.wordEdits), [0, 0]);
  const edited = applyEdit(t, setSectionBodyEdit(t, "Findings", "The heart is enlarged. Lungs are clear."));
  assert.deepEqual(changesSince(edited, p).map((c) => [c.section, c.wordEdits, c.draftWords]), [["Findings", 1, 7], ["Impression", 0, 2]]);
  const hover = draftHover(draftedRanges(edited, p)[0]!);
  assert.match(hover, /xraygpt-mini@0\.2\.0 at 2026-01-02T03:04:06\.000Z \(job 01234567\) — complete; edited since: 1 word edit from the 7-word draft/);
  assert.match(draftHover(draftedRanges(edited, p)[1]!), /interrupted \(cancelled\)/);
  assert.deepEqual(parseProvenance(JSON.stringify(p)), p);
  assert.equal(parseProvenance("{not json"), undefined);
  assert.equal(parseProvenance(JSON.stringify({ schema: "other", drafts: [] })), undefined);
  assert.equal(provenancePathFor("/r/chest.png.report.md"), "/r/chest.png.report.provenance.json");
});

test("front-matter fields are set or added, never duplicated", () => {
  const t = newRadiologyReport(meta, "chest.png");
  const a = applyEdit(t, setFieldEdit(t, "drafted", "Findings, Impression")!);
  assert.match(a, /status: draft\ndrafted: "Findings, Impression"\n---\n/);
  const b = applyEdit(a, setFieldEdit(a, "drafted", "Findings")!);
  assert.equal((b.match(/drafted:/g) ?? []).length, 1);
  assert.match(b, /drafted: Findings\n/);
  assert.equal(setFieldEdit(b, "drafted", "Findings"), undefined, "unchanged: no edit");
  assert.equal(setFieldEdit("# no front matter\n", "drafted", "x"), undefined);
});

test("exports: Markdown without front matter, plain text with headings; empty sections left out", () => {
  let t = newRadiologyReport(meta, "chest.png");
  t = applyEdit(t, setSectionBodyEdit(t, "Findings", "The **heart** is normal."));
  t = applyEdit(t, setSectionBodyEdit(t, "Impression", "Normal chest."));
  assert.equal(exportMarkdown(t), "# Report: chest.png\n\n## Findings\n\nThe **heart** is normal.\n\n## Impression\n\nNormal chest.\n");
  assert.equal(exportPlainText(t), "FINDINGS:\nThe heart is normal.\n\nIMPRESSION:\nNormal chest.\n");
  const taken = new Set(["/r/a.sr.dcm", "/r/a.sr-2.dcm"]);
  assert.equal(freeName("/r/a.sr", ".dcm", (p) => taken.has(p)), "/r/a.sr-3.dcm");
});

test("messages say what happened: partial text kept, none generated, failure with no report, a batch's counts", () => {
  assert.equal(draftMessage("summary", "img5.png", { kind: "cancelled", words: 0, reportWritten: false }), "XrayGPT: summary of img5.png cancelled before any text was generated; nothing was written.");
  assert.equal(
    draftMessage("summary", "img5.png", { kind: "cancelled", words: 7, reportWritten: true }, ["Findings"]),
    "XrayGPT: summary of img5.png cancelled; the 7 words generated so far are kept in Findings, marked interrupted.",
  );
  assert.equal(draftMessage("summary", "bad.png", { kind: "failed", reason: "bad.png: not a PNG, JPEG or DICOM image", reportWritten: false }), "XrayGPT: cannot summarize bad.png: bad.png: not a PNG, JPEG or DICOM image. No report was written.");
  assert.equal(
    batchSummary([{ kind: "done" }, { kind: "cancelled", words: 3, reportWritten: true }], 3),
    "XrayGPT: batch of 3 summaries cancelled: 1 done, 1 stopped (partial text kept where there was any), 1 not started.",
  );
  assert.equal(stageText("img1.png", { stage: "generate" }, "2 of 5 candidates"), "writing img1.png · 2 of 5 candidates");
  assert.equal(stageText("img1.png", { stage: "queued", position: 0 }), "queued img1.png (next)");
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { analyzeReport } from "./report-analysis.js";
import { draftActions, findingHover, sectionText } from "./report-actions.js";
import { findTerms } from "./finding-terms.js";
import { appendDraftEdit, applyEdit, finishDraftEdit, newReportText, parseFrontMatter, streamInsertEdit } from "./report-format.js";

const meta = { image: "a.png", model: "m", modelVersion: "1", time: "2025-01-01T00:00:00.000Z" };
const findings = { labels: [{ name: "Pneumonia", probability: 0.95 }, { name: "Pleural Effusion", probability: 0.1 }, { name: "Cardiomegaly", probability: 0.85 }] };

test("negations are found per clause, and 'but' ends them", () => {
  const t = findTerms("No pneumothorax or pleural effusion. Cardiomegaly is present. No edema, but pneumonia.");
  const by = Object.fromEntries(t.map((m) => [m.label, m.negationStart !== undefined]));
  assert.deepEqual(by, { Pneumothorax: true, "Pleural Effusion": true, Cardiomegaly: false, Edema: true, Pneumonia: false });
  assert.equal(t.find((m) => m.label === "Pleural Effusion")!.term, "pleural effusion", "longest term wins");
});

test("a clean report has no problems", () => {
  const text = newReportText(meta, "a.png").replace("## Findings\n", "## Findings\n\nCardiomegaly. No effusion.\n").replace("## Impression\n", "## Impression\n\nPneumonia.\n");
  assert.deepEqual(analyzeReport({ text, image: "ok", findings }), []);
});

test("missing and broken image links are errors", () => {
  const noImage = "---\nstatus: draft\n---\n## Findings\n## Impression\n";
  assert.deepEqual(analyzeReport({ text: noImage, image: "none" }).map((p) => [p.code, p.severity]), [["missing-image", "error"]]);
  const text = newReportText(meta, "a.png");
  const broken = analyzeReport({ text, image: "missing" });
  assert.equal(broken.length, 1);
  assert.equal(broken[0]!.code, "broken-image");
  assert.equal(text.slice(broken[0]!.start, broken[0]!.end), "a.png", "the range is the image value");
});

test("a missing section has a quick fix that adds it", () => {
  const text = newReportText(meta, "a.png").replace("## Impression\n", "");
  const p = analyzeReport({ text, image: "ok" });
  assert.deepEqual(p.map((x) => x.code), ["missing-section"]);
  const fixed = applyEdit(text, p[0]!.fix!.edit);
  assert.ok(fixed.startsWith(text));
  assert.deepEqual(analyzeReport({ text: fixed, image: "ok" }), []);
});

test("an AI draft in a draft-status report is flagged until marked reviewed", () => {
  let text = newReportText(meta, "a.png");
  text = applyEdit(text, appendDraftEdit(text, { jobId: "j", model: "m@1", time: meta.time }));
  assert.deepEqual(analyzeReport({ text, image: "ok" }), [], "not while streaming");
  text = applyEdit(text, streamInsertEdit(text, "j", "Lungs clear.")!);
  text = applyEdit(text, finishDraftEdit(text, "j", "complete")!);
  const p = analyzeReport({ text, image: "ok" });
  assert.deepEqual(p.map((x) => x.code), ["unreviewed-draft"]);
  const fixed = applyEdit(text, p[0]!.fix!.edit);
  assert.equal(parseFrontMatter(fixed)?.fields.get("status")?.value, "reviewed");
  assert.deepEqual(analyzeReport({ text: fixed, image: "ok" }), []);
});

test("'no pneumonia' while the model says 0.95 is a contradiction with a rewrite fix", () => {
  const text = newReportText(meta, "a.png").replace("## Impression\n", "## Impression\n\nNo evidence of pneumonia. No effusion.\n");
  const p = analyzeReport({ text, image: "ok", findings, model: "m@1" });
  assert.deepEqual(p.map((x) => x.code), ["contradiction"]);
  assert.equal(text.slice(p[0]!.start, p[0]!.end), "No evidence of pneumonia");
  assert.match(p[0]!.message, /Pneumonia p=0\.95/);
  const fixed = applyEdit(text, p[0]!.fix!.edit);
  assert.match(fixed, /possible pneumonia\. No effusion\./);
  assert.deepEqual(analyzeReport({ text: fixed, image: "ok", findings }), []);
  assert.deepEqual(analyzeReport({ text, image: "ok", findings: { labels: [{ name: "pneumonia", probability: 0.3 }] } }), [], "low probability: no contradiction");
});

test("drafting actions depend on the image and on Findings text", () => {
  const empty = newReportText(meta, "a.png");
  assert.deepEqual(draftActions(empty, true).map((a) => a.section), ["Findings"]);
  assert.deepEqual(draftActions(empty, false), []);
  const withFindings = empty.replace("## Findings\n", "## Findings\n\nLungs clear.\n");
  assert.deepEqual(draftActions(withFindings, true).map((a) => a.title), ["Draft findings from image", "Draft impression from findings"]);
  assert.equal(sectionText(withFindings, "Findings"), "Lungs clear.");
});

test("hover shows the model's probability of the term under the cursor", () => {
  const text = "Mild cardiomegaly.";
  const h = findingHover(text, text.indexOf("cardio") + 3, findings, "m@1");
  assert.ok(h);
  assert.equal(text.slice(h.start, h.end), "cardiomegaly");
  assert.match(h.markdown, /Cardiomegaly\*\*: vision model probability \*\*0\.85\*\* \(m@1\)/);
  assert.equal(findingHover(text, 1, findings), undefined, "no term at 'Mild'");
  assert.match(findingHover("Edema.", 1, findings)!.markdown, /not a label/);
});

test("sections drafted in place (front matter `drafted:`) are unreviewed until the report is reviewed", () => {
  const text = newReportText(meta, "a.png").replace("status: draft\n", 'status: draft\ndrafted: "Findings, Impression"\n').replace("## Findings\n", "## Findings\n\nClear lungs.\n");
  const p = analyzeReport({ text, image: "ok" }).filter((x) => x.code === "unreviewed-draft");
  assert.equal(p.length, 1);
  assert.equal(text.slice(p[0]!.start, p[0]!.end), '"Findings, Impression"', "on the drafted: value");
  assert.match(p[0]!.message, /Findings, Impression/);
  const reviewed = applyEdit(text, p[0]!.fix!.edit);
  assert.match(reviewed, /^status: reviewed$/m);
  assert.deepEqual(analyzeReport({ text: reviewed, image: "ok" }).filter((x) => x.code === "unreviewed-draft"), []);
});

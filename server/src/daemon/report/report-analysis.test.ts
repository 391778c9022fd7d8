import { test } from "node:test";
import assert from "node:assert/strict";
import { analyzeReport, inSentenceCase } from "./report-analysis.js";
import { CHOOSE_IMAGE_COMMAND, setImageEdit } from "./report-image.js";
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
  assert.deepEqual(broken[0]!.command, { title: "Choose image…", command: CHOOSE_IMAGE_COMMAND }, "a broken link offers Choose image…");
  assert.equal(analyzeReport({ text: noImage, image: "none" })[0]!.command?.command, CHOOSE_IMAGE_COMMAND);
});

test("a missing section has a quick fix that adds it", () => {
  const text = newReportText(meta, "a.png").replace("## Impression\n", "");
  const p = analyzeReport({ text, image: "ok" });
  assert.deepEqual(p.map((x) => x.code), ["missing-section"]);
  assert.equal(p[0]!.message, "The report has no Impression section.");
  assert.equal(p[0]!.fix!.title, "Add the Impression section");
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
  assert.equal(p[0]!.message, '"No evidence of pneumonia", but the vision model (m@1) finds pneumonia likely (p = 0.95).');
  assert.equal(p[0]!.fix!.title, 'Rewrite as "Possible pneumonia"');
  const fixed = applyEdit(text, p[0]!.fix!.edit);
  assert.match(fixed, /\n\nPossible pneumonia\. No effusion\./, "sentence case kept");
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

test("rewrites keep sentence case", () => {
  assert.equal(inSentenceCase("No pneumonia.", 0, "possible pneumonia"), "Possible pneumonia");
  assert.equal(inSentenceCase("Heart normal. No pneumonia.", 14, "possible pneumonia"), "Possible pneumonia");
  assert.equal(inSentenceCase("## Impression\n\nNo pneumonia.", 15, "possible pneumonia"), "Possible pneumonia");
  assert.equal(inSentenceCase("- No pneumonia.", 2, "possible pneumonia"), "Possible pneumonia", "a list item starts a sentence");
  assert.equal(inSentenceCase("Clear lungs, no pneumonia.", 13, "Possible pneumonia"), "possible pneumonia", "mid-sentence stays lower case");
  const text = newReportText(meta, "a.png").replace("## Impression\n", "## Impression\n\nHeart normal, no pneumonia.\n");
  const p = analyzeReport({ text, image: "ok", findings });
  assert.match(applyEdit(text, p[0]!.fix!.edit), /Heart normal, possible pneumonia\./);
});

test("a whole-chest normal statement beside an acute finding is flagged, with a rewrite", () => {
  const acute = { labels: [{ name: "Pneumonia", probability: 0.88 }, { name: "Cardiomegaly", probability: 0.9 }] };
  for (const statement of ["No acute disease.", "Normal chest.", "No acute cardiopulmonary process."]) {
    const text = newReportText(meta, "a.png").replace("## Impression\n", `## Impression\n\nCardiomegaly. ${statement}\n`);
    const p = analyzeReport({ text, image: "ok", findings: acute, model: "m@1" });
    assert.deepEqual(p.map((x) => x.code), ["normal-beside-finding"], statement);
    assert.equal(text.slice(p[0]!.start, p[0]!.end), statement, "the range is the sentence");
    assert.equal(p[0]!.message, `"${statement}" says the chest is normal, but the vision model (m@1) finds pneumonia likely (pneumonia p = 0.88).`);
    const fixed = applyEdit(text, p[0]!.fix!.edit);
    assert.match(fixed, /Cardiomegaly\. Possible pneumonia\.\n/);
    assert.deepEqual(analyzeReport({ text: fixed, image: "ok", findings: acute }), []);
    // Not an acute finding (cardiomegaly alone), or a low probability: nothing to flag.
    assert.deepEqual(analyzeReport({ text, image: "ok", findings: { labels: [{ name: "Cardiomegaly", probability: 0.9 }, { name: "Pneumonia", probability: 0.3 }] } }), [], statement);
  }
  const bones = newReportText(meta, "a.png").replace("## Impression\n", "## Impression\n\nPneumonia. No acute bony abnormality.\n");
  assert.deepEqual(analyzeReport({ text: bones, image: "ok", findings: acute }), [], "normal bones are not a normal chest");
  const two = { labels: [{ name: "Pneumonia", probability: 0.88 }, { name: "Edema", probability: 0.81 }] };
  const text = newReportText(meta, "a.png").replace("## Findings\n", "## Findings\n\nNormal chest.\n");
  assert.match(applyEdit(text, analyzeReport({ text, image: "ok", findings: two })[0]!.fix!.edit), /\n\nPossible pneumonia and edema\.\n/);
});

test("Choose image… sets the image link, adding it where missing", () => {
  const text = newReportText(meta, "a.png");
  const fixed = applyEdit(text, setImageEdit(text, "../images/b c.png"));
  assert.equal(parseFrontMatter(fixed)?.fields.get("image")?.value, "../images/b c.png");
  assert.equal(fixed.replace(/^image: .*$/m, ""), text.replace(/^image: .*$/m, ""), "nothing else changes");
  const noField = "---\nstatus: draft\n---\n## Findings\n";
  assert.equal(parseFrontMatter(applyEdit(noField, setImageEdit(noField, "x.dcm")))?.fields.get("image")?.value, "x.dcm");
  const noFrontMatter = "## Findings\nClear.\n";
  const added = applyEdit(noFrontMatter, setImageEdit(noFrontMatter, "x.dcm"));
  assert.equal(parseFrontMatter(added)?.fields.get("image")?.value, "x.dcm");
  assert.ok(added.endsWith(noFrontMatter));
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

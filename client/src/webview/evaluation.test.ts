// The evaluation webview in headless Chromium: a real evaluation report (scored by the daemon's
// evaluateFiles on small fixture files) drawn as SVG bar charts with CI whiskers and as tables.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { EvaluationReport } from "@xraygpt/protocol";
import { deliver, openWebviewPage, posted, type WebviewPage } from "../testing/chromium.js";
import { evaluationHtml } from "./html.js";
import { parseEvaluationMessage } from "./messages.js";

let webview: WebviewPage;
let page: Page;
let problems: string[];
let report: EvaluationReport;
let dir: string;

const REFS = [
  "The heart size is normal. No pleural effusion or pneumothorax.",
  "Mild cardiomegaly. Small left pleural effusion.",
  "Right lower lobe opacity consistent with pneumonia.",
  "Lungs are clear. Small right pneumothorax.",
  "Stable cardiomegaly with pulmonary edema.",
];
const PREDS = [
  "Heart size is normal. No pleural effusion.",
  "Cardiomegaly. Left pleural effusion is present.",
  "Lungs are clear.",
  "Small right pneumothorax. Lungs otherwise clear.",
  "Cardiomegaly and pulmonary edema with small effusions.",
];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "xraygpt-evalview-"));
  writeFileSync(join(dir, "pred.jsonl"), PREDS.map((text, i) => JSON.stringify({ id: `p${i}`, text })).join("\n") + "\n");
  writeFileSync(join(dir, "refs.csv"), "uid,findings,impression\n" + REFS.map((t, i) => `p${i},"${t}",`).join("\n") + "\n");
  const { evaluateFiles } = (await import("xraygpt/evaluate/run")) as typeof import("xraygpt/evaluate/run");
  report = evaluateFiles(join(dir, "pred.jsonl"), join(dir, "refs.csv"), { predictions: {}, references: {}, scores: { bootstrap: 200 } });
  webview = await openWebviewPage("evaluation.html", evaluationHtml);
  ({ page, problems } = webview);
});

after(async () => {
  await webview?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the page says ready; a report message draws one bar per metric with its CI whiskers", async () => {
  assert.deepEqual((await posted(page))[0], { type: "ready" });
  await deliver(page, { type: "report", report });
  await page.waitForSelector("#metrics-chart .row");
  assert.equal(await page.textContent("#title"), "Evaluation of 5 report pairs");
  const rows = await page.$$eval("#metrics-chart .row", (gs) =>
    gs.map((g) => {
      const bar = g.querySelector(".bar");
      const ci = g.querySelector(".ci");
      return {
        name: g.getAttribute("data-name"),
        width: bar ? Number(bar.getAttribute("width")) : null,
        low: ci ? Number(ci.getAttribute("data-low")) : null,
        high: ci ? Number(ci.getAttribute("data-high")) : null,
        whisker: ci ? Array.from(ci.querySelectorAll("line")).map((l) => Number(l.getAttribute("x1"))) : [],
        text: g.querySelector(".value")?.textContent,
      };
    }),
  );
  assert.deepEqual(rows.map((r) => r.name), report.scores.metrics.map((m) => m.name));
  for (const [i, m] of report.scores.metrics.entries()) {
    const r = rows[i]!;
    assert.ok(m.value !== null && m.value > 0 && m.value < 1, `${m.name} is a non-trivial score (${m.value})`);
    assert.ok(Math.abs(r.width! / 380 - m.value) < 1e-6, `${m.name}: bar length ∝ value`);
    assert.equal(r.text, m.value.toFixed(3));
    assert.ok(m.ci95);
    assert.deepEqual([r.low, r.high], [m.ci95.low, m.ci95.high]);
    assert.ok(Math.abs(r.whisker[0]! - (250 + m.ci95.low * 380)) < 1e-6 && Math.abs(r.whisker[2]! - (250 + m.ci95.high * 380)) < 1e-6, `${m.name}: whiskers at the interval's ends`);
  }
  const label = await page.getAttribute("#metrics-chart", "aria-label");
  assert.match(label ?? "", new RegExp(`ROUGE-1 ${report.scores.metrics[0]!.value!.toFixed(4)}`));
});

test("per-label F1 bars: 14 CheXpert observations, n/a where F1 is undefined", async () => {
  const rows = await page.$$eval("#labels-chart .row", (gs) => gs.map((g) => ({ name: g.getAttribute("data-name"), bar: g.querySelector(".bar")?.getAttribute("data-value") ?? null, text: g.querySelector(".value")?.textContent })));
  const per = report.scores.labels.perLabel;
  assert.equal(rows.length, 14);
  assert.deepEqual(rows.map((r) => r.name), Object.keys(per));
  for (const r of rows) {
    const f1 = per[r.name!]!.f1;
    if (f1 === null) assert.deepEqual([r.bar, r.text], [null, "n/a"]);
    else assert.equal(Number(r.bar), f1);
  }
  assert.ok(rows.some((r) => r.text === "n/a") && rows.some((r) => r.bar !== null), "both defined and undefined F1s are exercised");
  assert.equal(per["Cardiomegaly"]!.support, 2);
});

test("keyboard: the toggle shows the tables with the same numbers; file names post validated open messages", async () => {
  assert.equal(await page.isHidden("#tables"), true);
  await page.focus("#toggle");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#metrics-table");
  assert.equal(await page.isVisible("#metrics-table"), true);
  assert.equal(await page.isHidden("#charts"), true);
  assert.equal(await page.getAttribute("#toggle", "aria-pressed"), "true");
  const metricCells = await page.$$eval("#metrics-table tbody tr", (trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent)));
  assert.deepEqual(
    metricCells,
    report.scores.metrics.map((m) => [m.name, m.value!.toFixed(4), `${m.ci95!.low.toFixed(4)} – ${m.ci95!.high.toFixed(4)}`]),
  );
  const effusion = await page.$$eval("#labels-table tbody tr", (trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent)).find((r) => r[0] === "Pleural Effusion"));
  const s = report.scores.labels.perLabel["Pleural Effusion"]!;
  assert.deepEqual(effusion, ["Pleural Effusion", s.precision!.toFixed(4), s.recall!.toFixed(4), s.f1!.toFixed(4), String(s.support), String(s.tp + s.fp)]);
  await page.keyboard.press("Space");
  assert.equal(await page.isVisible("#metrics-chart"), true);

  await page.focus("#pred-name");
  await page.keyboard.press("Enter");
  await page.click("#ref-name");
  const last = (await posted(page)).slice(-2);
  assert.deepEqual(last, [{ type: "open", file: "predictions" }, { type: "open", file: "references" }]);
  for (const m of last) assert.equal(parseEvaluationMessage(m).ok, true);
  assert.deepEqual(problems, [], "no CSP violations or page errors");
});

test("a malformed report message shows an error instead of charts", async () => {
  await deliver(page, { type: "report", report: { scores: 3 } });
  assert.match((await page.textContent("#status")) ?? "", /not in the expected format/);
});

// End to end in code-server: the report document a radiologist keeps. Summarize fills Findings and
// Impression in place (no inline markup), the time to the first visible text is printed, a second
// draft is a diff to accept or reject, a reviewed DICOM report exports to a Basic Text SR that
// dcmjs and dsrdump read, a corrupt image gives an error and no report, cancel keeps the partial
// text, a cancelled batch says what was done and left, and the status bar is idle after a batch.
// Screenshots of the report in light, dark and high-contrast themes go to test-results/e2e/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { explorerMenu, makeWorkspace, openBrowser, quickOpen, reportSection, RESULTS, ROOT, runCommand, shot, startCodeServer, toast } from "./harness.mjs";
import waitForModule from "./wait-for.cjs";

const { waitFor } = waitForModule;
const require = createRequire(import.meta.url);

let ws, server, browser, page, settings;

const read = (name) => (existsSync(join(ws.ws, name)) ? readFileSync(join(ws.ws, name), "utf8") : "");
const sidecar = (image) => {
  const t = read(`${image}.report.provenance.json`);
  return t ? JSON.parse(t) : undefined;
};
/** The report's drafts once every drafted section is final (complete or interrupted) and the report is saved with them. */
const finished = (image) => {
  const p = sidecar(image);
  const saved = p && p.drafts.every((d) => reportSection(read(`${image}.report.md`), d.section) === d.text);
  return p && p.drafts.length > 0 && p.drafts.every((d) => d.state === "complete" || d.state === "interrupted") && saved && p;
};

/** Rewrites the workspace settings; resolves once the status bar shows `model`. */
async function setSettings(patch, model) {
  settings = { ...settings, ...patch };
  writeFileSync(join(ws.ws, ".vscode", "settings.json"), JSON.stringify(settings, null, 2));
  if (model) await page.waitForSelector(`.statusbar-item[id*="xraygpt.daemon"] >> text=${model}`, { timeout: 60_000 });
}

/** The extension's output channel so far (its log files under the user data folder). */
function extensionLog() {
  const files = spawnSync("find", [join(ws.base, "user-data", "logs"), "-name", "*XrayGPT*.log"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  return files.map((f) => readFileSync(f, "utf8")).join("\n");
}

/** The first text under "## Findings" in the visible editor of `report`, and whether it is provisional (italic); undefined when none. */
function findingsOnScreen(report) {
  return page.evaluate((report) => {
    for (const group of document.querySelectorAll(".editor-group-container")) {
      if (!group.querySelector(".tab.active")?.getAttribute("aria-label")?.includes(report)) continue;
      const lines = group.querySelector(".monaco-editor .view-lines");
      if (!lines) continue;
      const rows = [...lines.querySelectorAll(".view-line")].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
      const line = (r) => r.textContent.replace(/\u00a0/g, " ").trim();
      const i = rows.findIndex((r) => line(r) === "## Findings");
      const next = i === -1 ? undefined : rows.slice(i + 1).find((r) => line(r));
      if (next && !line(next).startsWith("#")) return { provisional: [...next.querySelectorAll("span")].some((s) => getComputedStyle(s).fontStyle === "italic" && s.textContent.trim()) };
    }
    return undefined;
  }, report);
}

const jobsItem = () => page.locator('.statusbar-item[id*="xraygpt.jobs"]');

/** Right-clicks several explorer files (a multi-selection) and runs Summarize on them. */
async function summarizeMany(files) {
  const row = (f) => page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${f}"]`).first();
  // Select them (again, if the explorer re-rendered under a click while earlier reports appeared).
  await waitFor(async () => {
    await page.waitForTimeout(700);
    await row(files[0]).click();
    for (const f of files.slice(1)) await row(f).click({ modifiers: ["Control"] });
    const selected = await Promise.all(files.map((f) => row(f).getAttribute("aria-selected")));
    return selected.every((v) => v === "true");
  }, `the selection of ${files.join(", ")}`, 30_000);
  await row(files.at(-1)).click({ button: "right" });
  const item = page.locator('.context-view .action-label:text-is("Summarize Radiograph")');
  await item.waitFor();
  await page.waitForTimeout(500);
  await item.click();
}

before(async () => {
  ws = await makeWorkspace();
  const { writeFixtureModel } = await import(join(ROOT, "server/dist/testing/fixture-model.js"));
  // A slower random model whose long answers stream token by token (to cancel mid-stream).
  await writeFixtureModel(ws.models, "fixture-slow", {
    llm: { nEmbd: 384, nLayer: 6, nFf: 1536, contextLength: 2048 },
    manifest: { llm: { file: "llm.gguf", contextSize: 2048 }, generation: { maxTokens: 1500, temperature: 0, topP: 1, topK: 40, repeatPenalty: 1, seed: 1 }, prompt: { template: "###Patient: {findings} {prompt} ###Doctor:", stop: [], defaultPrompt: "Describe the given chest x-ray image in detail." } },
  });
  for (const n of ["b", "c", "d", "e", "f", "g"]) copyFileSync(join(ws.ws, "chest.png"), join(ws.ws, `${n}.png`));
  writeFileSync(join(ws.ws, "broken.png"), Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.from("this is not really a PNG image")]));
  settings = JSON.parse(readFileSync(join(ws.ws, ".vscode", "settings.json"), "utf8"));
  server = await startCodeServer(ws.base);
  browser = await openBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${server.url}/?folder=${encodeURIComponent(ws.ws)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: 90_000 });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row[aria-label*="chest.dcm"]', { timeout: 90_000 });
  await page.waitForSelector('.statusbar-item[id*="xraygpt.daemon"] >> text=fixture-tiny', { timeout: 120_000 });
});

after(async () => {
  if (page) await shot(page, "report-zz-final").catch(() => undefined);
  // The extension's output channel (what it logged: times, outcomes), beside the screenshots.
  const logs = spawnSync("find", [join(ws.base, "user-data", "logs"), "-name", "*XrayGPT*.log"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const [i, f] of logs.entries()) copyFileSync(f, join(RESULTS, `report-output-${i}.log`));
  await browser?.close();
  server?.stop();
  if (process.env.XRAYGPT_E2E_KEEP) console.log(`kept ${ws?.base}`);
  else ws?.cleanup();
});

test("Summarize fills Findings and Impression in place, without markup; provisional text (if streamed) comes first", async () => {
  await setSettings({ "xraygpt.model": "xraygpt-mini", "xraygpt.maxTokens": 160 }, "xraygpt-mini");
  // The extension loads the chosen model ahead of the first request (xraygpt.preloadModel).
  let preloadMs;
  await waitFor(() => {
    preloadMs = /model xraygpt-mini: loaded ahead of the first request in (\d+) ms/.exec(extensionLog())?.[1];
    return preloadMs !== undefined;
  }, "the model loaded ahead (the extension's log)", 120_000);
  console.log(`# xraygpt-mini loaded ahead of the first request in ${preloadMs} ms`);
  const t0 = Date.now();
  await explorerMenu(page, "chest.dcm", "Summarize Radiograph");
  // Watch the editor: the first text under "## Findings", and whether it was provisional (italic).
  let firstMs, firstProvisional, finalMs;
  await waitFor(async () => {
    const seen = await findingsOnScreen("chest.dcm.report.md");
    if (seen && firstMs === undefined) [firstMs, firstProvisional] = [Date.now() - t0, seen.provisional];
    if (seen && !seen.provisional && finalMs === undefined) finalMs = Date.now() - t0;
    return finalMs !== undefined && finished("chest.dcm");
  }, "the finished summary", 240_000);
  console.log(`# time from Summarize to the first visible text: ${firstMs} ms (${firstProvisional ? "provisional" : "final"} text); final text at ${finalMs} ms`);
  if (firstProvisional) assert.ok(firstMs < finalMs, "the provisional text was visible before the final text");
  const text = read("chest.dcm.report.md");
  assert.doesNotMatch(text, /<!--|xraygpt:draft/, "no inline markup");
  assert.match(text, /^---\nimage: chest\.dcm\nmodel: xraygpt-mini\n[\s\S]*?drafted: "Findings, Impression"\n---\n/);
  const findings = reportSection(text, "Findings");
  const impression = reportSection(text, "Impression");
  assert.ok(findings.length > 0 && impression.length > 0, "both sections filled");
  assert.equal(reportSection(text, "Examination"), "DX chest, PA view.", "the Examination from the DICOM header");
  assert.doesNotMatch(findings, /Impression:/i, "the impression is in its own section");
  assert.doesNotMatch(`${findings}\n${impression}`, /^(Findings|Impression):/im, "no headings inside the sections");
  const p = sidecar("chest.dcm");
  assert.deepEqual(p.drafts.map((d) => [d.section, d.state, d.model]).sort(), [["Findings", "complete", "xraygpt-mini"], ["Impression", "complete", "xraygpt-mini"]]);
  assert.equal(p.drafts.find((d) => d.section === "Findings").text, findings, "the sidecar keeps the draft as written");
  // The report opened beside the image's own viewer.
  await page.waitForSelector('.tab[aria-label*="chest.dcm.report.md"]');
  const groups = await page.$$eval(".editor-group-container", (gs) => gs.map((g) => [...g.querySelectorAll(".tab")].map((t) => t.getAttribute("aria-label") ?? "")));
  const at = groups.findIndex((tabs) => tabs.some((t) => t.includes("chest.dcm.report.md")));
  assert.ok(at > 0 && groups[at - 1].some((t) => /chest\.dcm(?!\.report)/.test(t)), `report beside the chest.dcm viewer: ${JSON.stringify(groups)}`);
  // Screenshots in three themes, the hover over the drafted Findings in the dark one.
  for (const [theme, name] of [["Default Light Modern", "light"], ["Default Dark Modern", "dark"], ["Default High Contrast", "high-contrast"]]) {
    await setSettings({ "workbench.colorTheme": theme });
    await page.waitForTimeout(2500);
    await page.locator('.tab[aria-label*="chest.dcm.report.md"]').first().click();
    await shot(page, `report-${name}`);
    if (name === "dark") {
      await page.locator(".view-line", { hasText: findings.slice(0, 20) }).first().hover();
      await page.waitForSelector(".monaco-hover", { timeout: 10_000 }).catch(() => undefined);
      await page.waitForTimeout(1000);
      await shot(page, "report-dark-hover");
    }
  }
  await setSettings({ "workbench.colorTheme": "Default Dark Modern" });
});

test("a second summary into sections that have text is a diff to accept or reject, not an edit", async () => {
  await setSettings({ "xraygpt.model": "fixture-tiny", "xraygpt.maxTokens": 24 }, "fixture-tiny");
  const before = read("chest.dcm.report.md");
  const drafts = sidecar("chest.dcm").drafts.length;
  await explorerMenu(page, "chest.dcm", "Summarize Radiograph");
  const offer = toast(page, "the new draft is shown as a diff");
  await offer.first().waitFor({ timeout: 120_000 });
  await page.waitForSelector(".tab[aria-label*='new draft']", { timeout: 30_000 });
  await shot(page, "report-proposal-diff");
  assert.equal(read("chest.dcm.report.md"), before, "nothing changed before the user decides");
  await offer.first().locator(".monaco-button", { hasText: "Reject" }).click();
  await page.waitForTimeout(1500);
  assert.equal(read("chest.dcm.report.md"), before, "rejected: the report is as it was");
  assert.equal(sidecar("chest.dcm").drafts.length, drafts);
});

test("a reviewed DICOM report exports to a Basic Text SR that dcmjs parses and dsrdump prints", async () => {
  const findings = reportSection(read("chest.dcm.report.md"), "Findings");
  await quickOpen(page, "chest.dcm.report.md");
  await runCommand(page, "XrayGPT: Mark Report Reviewed");
  await page.waitForTimeout(1000);
  await page.keyboard.press("Control+S");
  await waitFor(() => /^status: reviewed$/m.test(read("chest.dcm.report.md")), "status: reviewed", 30_000);
  await runCommand(page, "XrayGPT: Export Reviewed Report");
  await page.waitForSelector('.quick-input-list .monaco-list-row[aria-label*="DICOM SR"]');
  await page.keyboard.press("Enter"); // the first choice: the SR with an empty patient module
  const out = join(ws.ws, "chest.dcm.report.sr.dcm");
  await waitFor(() => existsSync(out), "the SR file", 30_000);
  await toast(page, "as a DICOM SR").first().waitFor({ timeout: 10_000 });
  const dcmjs = require(join(ROOT, "node_modules", "dcmjs"));
  const b = readFileSync(out);
  const nat = (buf) => dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)).dict);
  const sr = nat(b);
  const src = nat(readFileSync(join(ws.ws, "chest.dcm")));
  assert.equal(sr.SOPClassUID, "1.2.840.10008.5.1.4.1.1.88.11");
  assert.equal(sr.StudyInstanceUID, src.StudyInstanceUID);
  const ref = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0];
  assert.equal(ref.SeriesInstanceUID, src.SeriesInstanceUID);
  assert.equal(ref.ReferencedSOPSequence[0].ReferencedSOPInstanceUID, src.SOPInstanceUID);
  const empty = (v) => v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
  for (const k of ["PatientName", "PatientID", "PatientBirthDate", "PatientSex"]) assert.ok(empty(sr[k]), `${k} empty by default (type 2)`);
  assert.ok(!b.toString("latin1").includes(src.PatientID), "no patient ID anywhere in the SR");
  const dsr = spawnSync("dsrdump", ["+Pl", out], { encoding: "utf8" });
  if (dsr.error) console.log("# dcmtk's dsrdump is not installed; its check is skipped");
  else {
    assert.equal(dsr.status, 0, dsr.stderr);
    assert.ok(dsr.stdout.includes(findings), `dsrdump prints the findings:\n${dsr.stdout}`);
  }
});

test("an image that cannot be decoded gives an error naming it and the reason, and no report", async () => {
  await explorerMenu(page, "broken.png", "Summarize Radiograph");
  const err = toast(page, "cannot summarize broken.png");
  await err.first().waitFor({ timeout: 60_000 });
  const message = await err.first().textContent();
  assert.match(message, /No report was written/);
  assert.ok(message.length > "cannot summarize broken.png: . No report was written.".length + 10, `a reason: ${message}`);
  await page.waitForTimeout(1000);
  assert.ok(!existsSync(join(ws.ws, "broken.png.report.md")), "no report file");
  await shot(page, "report-corrupt-error");
});

test("cancel mid-stream keeps exactly the text generated, marked interrupted", async () => {
  await setSettings({ "xraygpt.model": "fixture-slow", "xraygpt.maxTokens": 1500 }, "fixture-slow");
  await quickOpen(page, "chest.dcm"); // another image's viewer is active: b.png's report must not open beside it
  const t0 = Date.now();
  await explorerMenu(page, "b.png", "Summarize Radiograph");
  await waitFor(() => findingsOnScreen("b.png.report.md"), "the first streamed text on screen", 120_000);
  console.log(`# time from Summarize to the first visible text, one streamed generation (fixture-slow): ${Date.now() - t0} ms`);
  // Cancel while it writes (the report is saved when the job ends, so watch the status bar, not the file).
  await jobsItem().filter({ hasText: "writing b.png" }).waitFor({ timeout: 120_000 });
  await page.waitForTimeout(1000);
  await jobsItem().click();
  const note = toast(page, "summary of b.png cancelled");
  await note.first().waitFor({ timeout: 60_000 });
  const message = await note.first().textContent();
  const p = await waitFor(() => finished("b.png"), "the interrupted draft recorded", 30_000);
  const text = read("b.png.report.md");
  const kept = p.drafts.map((d) => d.text).join(" ");
  assert.ok(reportSection(text, "Findings").length > 0, "the partial text is kept");
  for (const d of p.drafts) {
    assert.equal(d.state, "interrupted");
    assert.equal(d.reason, "cancelled");
    assert.equal(reportSection(text, d.section), d.text, "the report holds the text as generated");
  }
  const words = Number(/the (\d+) words? generated so far/.exec(message)?.[1]);
  assert.ok(words > 0 && words >= kept.split(/\s+/).filter(Boolean).length - 1, `the message counts the words kept: ${message}`);
  const groups = await page.$$eval(".editor-group-container", (gs) => gs.map((g) => [...g.querySelectorAll(".tab")].map((t) => t.getAttribute("aria-label") ?? "")));
  const at = groups.findIndex((tabs) => tabs.some((t) => t.includes("b.png.report.md")));
  assert.ok(at > 0 && groups[at - 1].some((t) => /\bb\.png(?!\.report)/.test(t)), `b.png's report opened beside b.png, not beside chest.dcm: ${JSON.stringify(groups)}`);
  await shot(page, "report-cancelled");
});

test("a cancelled batch says how many were done, stopped and not started; the status bar is idle at once", async () => {
  // Long enough answers (fixture-slow) that d.png is still being written when the cancel lands.
  await setSettings({ "xraygpt.maxTokens": 1200 });
  await summarizeMany(["c.png", "d.png", "e.png"]);
  await waitFor(async () => finished("c.png") && (await jobsItem().filter({ hasText: "writing d.png" }).count()) > 0, "c done and d being written", 180_000);
  await page.waitForTimeout(300);
  await jobsItem().click();
  const note = toast(page, "batch of 3 summaries cancelled");
  await note.first().waitFor({ timeout: 60_000 });
  assert.match(await note.first().textContent(), /1 done, 1 stopped .*1 not started/);
  await waitFor(async () => !(await jobsItem().isVisible()), "the status bar idle while the notification is still up", 5_000);
  assert.ok(!existsSync(join(ws.ws, "e.png.report.md")), "the image not started has no report");
});

test("the status bar is idle as soon as a batch finishes", async () => {
  await setSettings({ "xraygpt.model": "fixture-tiny", "xraygpt.maxTokens": 24 }, "fixture-tiny");
  await summarizeMany(["f.png", "g.png"]);
  await waitFor(() => finished("f.png") && finished("g.png"), "both summaries", 120_000);
  await waitFor(async () => !(await jobsItem().isVisible()), "the status bar idle after the batch", 5_000);
  await shot(page, "report-batch-idle");
});

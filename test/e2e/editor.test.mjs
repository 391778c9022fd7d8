// End to end in a real VS Code (code-server): the viewer, right-click → Summarize with a streamed
// report, one chat question, one code action. Screenshots in test-results/e2e/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { explorerMenu, makeWorkspace, openBrowser, quickOpen, reportSection, shot, startCodeServer, webviewFrame } from "./harness.mjs";
import waitForModule from "./wait-for.cjs";

const { waitFor } = waitForModule;

let ws, server, browser, page;

before(async () => {
  ws = await makeWorkspace();
  server = await startCodeServer(ws.base);
  browser = await openBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${server.url}/?folder=${encodeURIComponent(ws.ws)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: 90_000 });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row[aria-label*="chest.png"]', { timeout: 90_000 });
  // The extension is up once its status bar item shows the daemon running with the fixture model.
  await page.waitForSelector('.statusbar-item[id*="xraygpt.daemon"] >> text=fixture-tiny', { timeout: 120_000 });
});

after(async () => {
  if (page) await shot(page, "zz-final").catch(() => undefined);
  await browser?.close();
  server?.stop();
  if (process.env.XRAYGPT_E2E_KEEP) console.log(`kept ${ws?.base}`);
  else ws?.cleanup();
});

test("a DICOM opens in the radiograph viewer with pixels from the daemon", async () => {
  await quickOpen(page, "chest.dcm");
  const frame = await webviewFrame(page, "#stage");
  await frame.waitForFunction(() => document.body.dataset.loaded === "true", null, { timeout: 120_000 });
  assert.match(await frame.textContent("#info"), /DICOM 128×112, 12-bit/);
  const tags = await frame.textContent("#tags");
  assert.doesNotMatch(tags, /PatientName|PatientID|BirthDate/, "patient tags hidden by default");
  await frame.waitForSelector("#findings li .bar", { timeout: 120_000 });
  await shot(page, "1-viewer");
});

test("right-click a PNG → Summarize Radiograph streams a report beside it", async () => {
  await explorerMenu(page, "chest.png", "Summarize Radiograph");
  const report = join(ws.ws, "chest.png.report.md");
  const sidecar = join(ws.ws, "chest.png.report.provenance.json");
  await waitFor(() => existsSync(sidecar) && /"state": "(complete|interrupted)"/.test(readFileSync(sidecar, "utf8")), "the finished report");
  const text = readFileSync(report, "utf8");
  assert.match(text, /^---\nimage: chest\.png\nmodel: fixture-tiny\nmodelVersion: 0\.0\.1\n/);
  assert.match(text, /## Examination\n\n## Indication\n\n## Comparison\n\n## Findings\n/);
  assert.doesNotMatch(text, /<!--/, "no inline markup");
  assert.match(readFileSync(sidecar, "utf8"), /"state": "complete"/, "the stream completed");
  assert.ok(reportSection(text, "Findings").length > 0, "Findings has the streamed text");
  await page.waitForSelector('.tab[aria-label*="chest.png.report.md"]');
  await shot(page, "2-report");
});

test("the chat answers a question about the active report's image", async () => {
  await page.locator('.tab[aria-label*="chest.png.report.md"]').first().click();
  await page.locator('.activitybar .action-item a[aria-label*="XrayGPT"]').first().click();
  const frame = await webviewFrame(page, "#input");
  await frame.waitForFunction(() => /chest\.png/.test(document.getElementById("subject").textContent), null, { timeout: 60_000 });
  await frame.fill("#input", "Is there an effusion?");
  await frame.press("#input", "Enter");
  await frame.waitForSelector(".msg.assistant button.insert", { timeout: 120_000 });
  const answer = await frame.textContent(".msg.assistant:last-of-type .text");
  assert.ok(answer.trim().length > 0, "a non-empty answer");
  await shot(page, "3-chat");
});

test("a quick fix from the daemon marks the report reviewed", async () => {
  await quickOpen(page, "chest.png.report.md");
  const report = join(ws.ws, "chest.png.report.md");
  const before = readFileSync(report, "utf8");
  const line = before.split("\n").findIndex((l) => l.startsWith("drafted:"));
  await page.keyboard.press("Control+G");
  await page.keyboard.type(String(line + 1));
  await page.keyboard.press("Enter");
  await waitFor(async () => (await page.$(".squiggly-info, .squiggly-warning, .squiggly-error")) !== null, "diagnostics in the report", 60_000);
  await page.keyboard.press("Control+.");
  const fix = page.getByText("Mark report as reviewed", { exact: true }).first();
  await fix.waitFor({ state: "visible", timeout: 30_000 });
  await fix.click();
  await page.keyboard.press("Control+S");
  const after = await waitFor(() => /^status: reviewed$/m.test(readFileSync(report, "utf8")) && readFileSync(report, "utf8"), "the saved reviewed status", 30_000);
  assert.equal(after.replace("status: reviewed", "status: draft"), before, "only the status changed");
  await shot(page, "4-code-action");
});

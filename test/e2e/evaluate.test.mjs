// End to end in code-server: "Evaluate Predictions…" on an annotation log with IU X-ray image
// names (1_IM-0001-4001.dcm.png) against reports keyed by uid. The automatic match finds none, so
// the editor asks how ids map; the IU X-ray preset is picked and the evaluation opens. A second
// run remembers the answer (no question). Screenshots in test-results/e2e/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { explorerMenu, makeWorkspace, openBrowser, shot, startCodeServer } from "./harness.mjs";
import waitForModule from "./wait-for.cjs";

const { waitFor } = waitForModule;

let ws, server, browser, page;

const NAMES = ["1_IM-0001-4001.dcm.png", "3_IM-1384-1001.dcm.png", "4_IM-2050-1001.dcm.png", "5_IM-2117-1003002.dcm.png"];
const TEXTS = ["The lungs are clear. No acute disease.", "Mild cardiomegaly.", "Normal chest.", "Small right pleural effusion."];

before(async () => {
  ws = await makeWorkspace();
  writeFileSync(join(ws.ws, "iu-run.jsonl"), NAMES.map((n, i) => JSON.stringify({ image: `/data/iu/${n}`, text: TEXTS[i] })).join("\n") + "\n");
  writeFileSync(join(ws.ws, "reports.csv"), "uid,findings,impression,split\n" + NAMES.map((n, i) => `${n.split("_")[0]},"${TEXTS[i]}",,val`).join("\n") + "\n");
  server = await startCodeServer(ws.base);
  browser = await openBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${server.url}/?folder=${encodeURIComponent(ws.ws)}`);
  await page.waitForSelector('.explorer-folders-view .monaco-list-row[aria-label*="iu-run.jsonl"]', { timeout: 90_000 });
  await page.waitForSelector('.statusbar-item[id*="xraygpt.daemon"] >> text=fixture-tiny', { timeout: 120_000 });
});

after(async () => {
  if (page) await shot(page, "evaluate-final").catch(() => undefined);
  await browser?.close();
  server?.stop();
  ws?.cleanup();
});

/** Evaluation panels showing `pairs` report pairs. */
async function evaluationPanels(pairs) {
  let n = 0;
  for (const f of page.frames()) {
    try {
      if (new RegExp(`Evaluation of ${pairs} report pairs`).test((await f.textContent("#title", { timeout: 200 })) ?? "")) n++;
    } catch {
      // not an evaluation panel
    }
  }
  return n;
}

/** Right-click the log → Evaluate Predictions…, type the references path into the file dialog, no row filter. */
async function startEvaluate() {
  await explorerMenu(page, "iu-run.jsonl", "Evaluate Predictions…");
  const input = page.locator(".quick-input-widget input").first();
  const rows = page.locator('.quick-input-widget >> text=which reference rows').first();
  await input.waitFor({ timeout: 30_000 });
  // The simple file dialog may still be completing the typed path when Enter comes, and then takes
  // it as a completion, not as the answer: type the path again until the next question shows.
  for (let attempt = 1; ; attempt++) {
    await input.fill(join(ws.ws, "reports.csv"));
    await page.waitForTimeout(700);
    await page.keyboard.press("Enter");
    const asked = await rows.waitFor({ timeout: 10_000 }).then(() => true, () => false);
    if (asked) break;
    if (!(await page.locator(".quick-input-widget >> text=reference reports").first().isVisible())) {
      await rows.waitFor({ timeout: 30_000 }); // the dialog took it; the next question is slow
      break;
    }
    await shot(page, `evaluate-file-dialog-attempt-${attempt}`).catch(() => undefined);
    if (attempt === 3) throw new Error("the references file dialog did not take the typed path in 3 attempts (screenshots evaluate-file-dialog-attempt-*)");
  }
  await page.keyboard.press("Enter");
}

test("IU-style names: the editor asks how ids map, the IU X-ray preset matches every prediction", async () => {
  await startEvaluate();
  await page.locator(".quick-input-widget >> text=how do prediction ids map").first().waitFor({ timeout: 60_000 });
  const row = page.locator('.quick-input-list .monaco-list-row:has-text("IU X-ray image names")').first();
  await row.waitFor();
  assert.match(await row.textContent(), /"1_IM-0001-4001" → "1"/, "the preset shows what it makes of the first id");
  await shot(page, "evaluate-1-question");
  await row.click();
  await waitFor(async () => (await evaluationPanels(4)) === 1, "the evaluation of 4 pairs", 90_000);
  await shot(page, "evaluate-2-report");
});

test("a second evaluation remembers the mapping: no question", async () => {
  await startEvaluate();
  // Without the remembered mapping it would stop at the question, and no second panel would open.
  const tabs = page.locator('.tab[aria-label*="Evaluation: iu-run.jsonl"]');
  await waitFor(async () => (await tabs.count()) === 2 && (await evaluationPanels(4)) === 1, "a second evaluation without the question", 90_000);
  assert.equal(await page.locator(".quick-input-widget >> text=how do prediction ids map").count(), 0);
});

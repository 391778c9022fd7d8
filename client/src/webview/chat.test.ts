// The chat webview view in headless Chromium: typing, streaming, stop, insert, keyboard.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { deliver, openWebviewPage, posted, type WebviewPage } from "../testing/chromium.js";
import { chatHtml } from "./html.js";
import { parseChatMessage } from "./messages.js";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { applyTheme, THEMES } from "../testing/themes.js";

let webview: WebviewPage;
let page: Page;
let problems: string[];

before(async () => {
  webview = await openWebviewPage("chat.html", chatHtml);
  ({ page, problems } = webview);
});

after(async () => {
  await webview?.close();
});

test("without an image the composer is disabled", async () => {
  await deliver(page, { type: "state", history: [] });
  assert.match((await page.textContent("#subject")) ?? "", /Open a radiograph/);
  assert.equal(await page.isDisabled("#input"), true);
});

test("history renders; Enter sends a question that the extension accepts", async () => {
  await deliver(page, { type: "state", image: "chest.png", history: [{ role: "user", text: "Hi" }, { role: "assistant", text: "Hello", interrupted: true }] });
  await page.waitForSelector(".msg.assistant");
  assert.equal(await page.textContent("#subject"), "About: chest.png");
  assert.match((await page.textContent(".msg.assistant")) ?? "", /Hello\(interrupted\)/);
  await page.focus("#input");
  await page.keyboard.type("Is there an effusion?");
  await page.keyboard.press("Enter");
  const last = (await posted(page)).at(-1);
  assert.deepEqual(last, { type: "ask", text: "Is there an effusion?" });
  assert.equal(parseChatMessage(last).ok, true, "what the page posts passes the extension's validation");
  assert.equal(await page.inputValue("#input"), "");
});

test("a streamed answer grows token by token; Stop and Escape post stop; insert posts the index", async () => {
  await deliver(page, { type: "question", text: "Is there an effusion?" });
  await deliver(page, { type: "answerStart" });
  await page.waitForSelector("#stop:not([hidden])");
  for (const t of ["No", " pleural", " effusion."]) await deliver(page, { type: "token", text: t });
  await page.waitForFunction(() => document.querySelector(".msg.assistant:last-child .text")?.textContent === "No pleural effusion.");
  await page.click("#stop");
  await page.keyboard.press("Escape");
  const msgs = await posted(page);
  assert.deepEqual(msgs.slice(-2), [{ type: "stop" }, { type: "stop" }]);
  await deliver(page, { type: "answerEnd", index: 3, interrupted: true, reason: "stopped" });
  await page.waitForSelector("#send:not([hidden])");
  assert.match((await page.textContent(".msg.assistant:last-child")) ?? "", /\(interrupted: stopped\)/);
  await page.click(".msg.assistant:last-child button.insert");
  assert.deepEqual((await posted(page)).at(-1), { type: "insert", index: 3 });
  await page.click("#clear");
  assert.deepEqual((await posted(page)).at(-1), { type: "clear" });
  assert.deepEqual(problems, []);
});

test("a long image name is cut in the header with the whole name as its tooltip", async () => {
  const name = "1.2.826.0.1.3680043.8.498.10293847561029384756.1.2.826.0.1.3680043.8.498.55.dcm";
  await page.setViewportSize({ width: 320, height: 500 });
  await deliver(page, { type: "state", image: name, history: [{ role: "user", text: "Is the heart enlarged?" }, { role: "assistant", text: "The heart size is normal." }] });
  await page.waitForFunction((n) => document.getElementById("subject")!.title === n, name);
  const fits = await page.$eval("#subject", (e) => ({ cut: e.scrollWidth > e.clientWidth, ellipsis: getComputedStyle(e).textOverflow, pageWide: document.documentElement.scrollWidth <= window.innerWidth }));
  assert.deepEqual(fits, { cut: true, ellipsis: "ellipsis", pageWide: true }, "cut with an ellipsis, and the view does not scroll sideways");
  mkdirSync(join(process.cwd(), "test-results", "webview"), { recursive: true });
  for (const theme of THEMES) {
    await applyTheme(page, theme);
    await page.screenshot({ path: join(process.cwd(), "test-results", "webview", `chat-${theme}.png`) });
  }
  assert.deepEqual(problems, []);
});

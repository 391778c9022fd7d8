// The viewer webview in headless Chromium: the real page (HTML, CSP, media/viewer.js), clicked
// and dragged, with the messages it posts and the pixels it renders checked.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { deliver, openWebviewPage, posted, type WebviewPage } from "../testing/chromium.js";
import { viewerHtml } from "./html.js";

let webview: WebviewPage;
let page: Page;
let problems: string[];

const W = 256;
const H = 128;
/** A horizontal ramp 0..65535 across the width. */
function rampBase64(): string {
  const px = new Uint16Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) px[y * W + x] = Math.round((x / (W - 1)) * 65535);
  return Buffer.from(px.buffer).toString("base64");
}

async function grey(x: number, y = 10): Promise<number> {
  return page.evaluate(([x, y]) => (document.getElementById("image") as HTMLCanvasElement).getContext("2d")!.getImageData(x!, y!, 1, 1).data[0]!, [x, y]);
}

async function renders(): Promise<number> {
  return page.evaluate(() => Number(document.body.dataset.rendered ?? 0));
}

async function waitRender(before: number): Promise<void> {
  await page.waitForFunction((n) => Number(document.body.dataset.rendered ?? 0) > n, before);
}

before(async () => {
  webview = await openWebviewPage("viewer.html", viewerHtml);
  ({ page, problems } = webview);
});

after(async () => {
  await webview?.close();
});

test("the viewer says ready, then renders the image with the given window", async () => {
  assert.deepEqual(await posted(page), [{ type: "ready" }]);
  const n = await renders();
  await deliver(page, {
    type: "image",
    width: W,
    height: H,
    pixels: rampBase64(),
    window: { center: 32768, width: 65536 },
    info: { format: "dicom", width: W, height: H, bitsStored: 16, frames: 1, view: "PA" },
    tags: [{ tag: "(0008,0060)", name: "Modality", value: "DX", patientIdentifying: false }],
    patientTagsHidden: true,
  });
  await waitRender(n);
  assert.equal(await grey(0), 0);
  assert.equal(await grey(W - 1), 255);
  assert.ok(Math.abs((await grey(W / 2)) - 128) <= 2, "mid-ramp is mid-grey");
  assert.match(await page.textContent("#info") ?? "", /DICOM 256×128, 16-bit, PA/);
  assert.match(await page.textContent("#tags") ?? "", /Modality\s*DX/);
  assert.match(await page.textContent("#tags-note") ?? "", /Patient-identifying tags are hidden/);
});

test("dragging changes the window and the rendered pixels", async () => {
  const before = await grey(W / 4);
  const c0 = Number(await page.getAttribute("#image", "data-window"));
  const box = (await page.locator("#stage").boundingBox())!;
  const n = await renders();
  await page.mouse.move(box.x + 100, box.y + 100);
  await page.mouse.down();
  await page.mouse.move(box.x + 40, box.y + 100, { steps: 4 }); // narrower window
  await page.mouse.up();
  await waitRender(n);
  const c1 = Number(await page.getAttribute("#image", "data-window"));
  assert.ok(c1 < c0, `window narrowed (${c0} → ${c1})`);
  assert.ok((await grey(W / 4)) < before, "a dark-side pixel got darker with a narrower window");
});

test("presets and invert re-render; Summarize posts a message", async () => {
  let n = await renders();
  await page.selectOption("#preset", "full");
  await waitRender(n);
  const g = await grey(40);
  n = await renders();
  await page.check("#invert");
  await waitRender(n);
  assert.equal(await grey(40), 255 - g);
  await page.click("#summarize");
  assert.deepEqual((await posted(page)).at(-1), { type: "summarize" });
});

test("wheel zooms and Fit restores the fitted scale", async () => {
  const fitted = await page.textContent("#zoom");
  const box = (await page.locator("#stage").boundingBox())!;
  await page.mouse.move(box.x + 50, box.y + 50);
  await page.mouse.wheel(0, -400);
  await page.waitForFunction((f) => document.getElementById("zoom")!.textContent !== f, fitted);
  await page.click("#fit");
  assert.equal(await page.textContent("#zoom"), fitted);
});

test("findings are listed by probability; errors are shown; the CSP was never violated", async () => {
  await deliver(page, { type: "findings", labels: [{ name: "Edema", probability: 0.1 }, { name: "Pneumonia", probability: 0.93 }] });
  await page.waitForSelector("#findings li:nth-child(2)");
  const rows = await page.$$eval("#findings li", (lis) => lis.map((l) => l.textContent));
  assert.deepEqual(rows, ["Pneumonia0.93", "Edema0.10"]);
  await deliver(page, { type: "error", message: "Cannot decode /x.dcm: truncated" });
  await page.waitForFunction(() => document.body.dataset.error === "true");
  assert.equal(await page.textContent("#status"), "Cannot decode /x.dcm: truncated");
  assert.deepEqual(problems, []);
});

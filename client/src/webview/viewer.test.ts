// The viewer webview in headless Chromium: the real page (HTML, CSP, media/viewer.js), clicked
// and dragged, with the messages it posts and the pixels it renders checked.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { deliver, openWebviewPage, posted, type WebviewPage } from "../testing/chromium.js";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { viewerHtml } from "./html.js";

/** Screenshots for a person to look at (gitignored). */
const SHOTS = join(process.cwd(), "test-results", "webview");

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

test("findings read from a multimodal model's text are marked as such, without the overlay", async () => {
  await deliver(page, { type: "findings", source: "text", labels: [{ name: "Pleural Effusion", probability: 1 }, { name: "Pneumothorax", probability: 0 }] });
  await page.waitForSelector("#findings li.source");
  const rows = await page.$$eval("#findings li", (lis) => lis.map((l) => l.textContent));
  assert.deepEqual(rows, ["Read from the model's text (no classifier):", "Pleural Effusionstated", "Pneumothoraxnegated"]);
  assert.equal(await page.isVisible("#heatmap-controls"), false);
  await deliver(page, { type: "findings", labels: [{ name: "Edema", probability: 0.1 }, { name: "Pneumonia", probability: 0.93 }] });
  await page.waitForFunction(() => !document.querySelector("#findings li.source"));
});

test("the saliency overlay: toggle, the selected finding's map aligned with the image through zoom, legend, opacity", async () => {
  assert.equal(await page.isVisible("#heatmap-controls"), true, "a model with findings offers the overlay");
  await page.check("#heatmap");
  assert.deepEqual((await posted(page)).at(-1), { type: "heatmap", finding: "Pneumonia" }, "the top finding is selected by default");
  // A 4×2 grid of 8-px cells over a 32×16 input (the whole 256×128 image), hottest at column 1, row 1.
  const values = [0, 0.1, 0.2, 0.1, 0.2, 1, 0.3, 0];
  await deliver(page, { type: "heatmap", map: { finding: "Pneumonia", probability: 0.93, cols: 4, rows: 2, cell: 8, inputWidth: 32, inputHeight: 16, values, min: 0, max: 1 } });
  await page.waitForFunction(() => document.body.dataset.heatmap === "Pneumonia");
  const px = (x: number, y: number) => page.evaluate(([x, y]) => [...(document.getElementById("overlay") as HTMLCanvasElement).getContext("2d")!.getImageData(x!, y!, 1, 1).data], [x, y]);
  const hot = await px(1, 1);
  const cold = await px(0, 0);
  assert.ok(hot[0]! > 100 && hot[2]! < 50, `the maximum is drawn red (${hot})`);
  assert.ok(cold[2]! > 100 && cold[0]! < 50, `the minimum is drawn blue (${cold})`);
  assert.match((await page.textContent("#legend")) ?? "", /Pneumonia \(p 0\.93\).*0\.000.*1\.000/s);
  const boxes = () => page.evaluate(() => ["image", "overlay"].map((id) => { const r = document.getElementById(id)!.getBoundingClientRect(); return [r.x, r.y, r.width, r.height].map((v) => Math.round(v)); }));
  const [img0, ov0] = await boxes();
  assert.deepEqual(ov0, img0, "the overlay covers the image");
  const box = (await page.locator("#stage").boundingBox())!;
  await page.mouse.move(box.x + 30, box.y + 20);
  await page.mouse.wheel(0, -300);
  await page.waitForFunction(() => document.getElementById("overlay")!.style.transform === document.getElementById("image")!.style.transform);
  const [img1, ov1] = await boxes();
  assert.notDeepEqual(img1, img0, "zoomed");
  assert.deepEqual(ov1, img1, "still aligned after zoom");
  await page.fill("#opacity", "80");
  await page.dispatchEvent("#opacity", "input");
  assert.equal(await page.evaluate(() => document.getElementById("overlay")!.style.opacity), "0.8");
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, "viewer-heatmap-light.png") });
  await page.evaluate(() => {
    const s = document.body.style;
    s.setProperty("--vscode-editor-background", "#1e1e1e");
    s.setProperty("--vscode-foreground", "#cccccc");
    s.setProperty("--vscode-descriptionForeground", "#9d9d9d");
    s.setProperty("--vscode-panel-border", "#444444");
  });
  await page.screenshot({ path: join(SHOTS, "viewer-heatmap-dark.png") });
  // Another finding: its own map is asked for.
  await page.click('#findings li[data-finding="Edema"]');
  assert.deepEqual((await posted(page)).at(-1), { type: "heatmap", finding: "Edema" });
  // A model without a findings classifier: no toggle.
  await deliver(page, { type: "findings", labels: [] });
  await page.waitForFunction(() => document.getElementById("heatmap-controls")!.hidden);
  assert.equal(await page.isVisible("#legend"), false);
  assert.deepEqual(problems, []);
});

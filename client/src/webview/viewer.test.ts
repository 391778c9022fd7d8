// The viewer webview in headless Chromium: the real page (HTML, CSP, media/viewer.js), clicked
// and dragged, with the messages it posts and the pixels it renders checked.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { deliver, openWebviewPage, posted, type WebviewPage } from "../testing/chromium.js";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { viewerHtml } from "./html.js";
import { applyTheme, luminance, THEMES } from "../testing/themes.js";

/** Screenshots for a person to look at (gitignored). */
const SHOTS = join(process.cwd(), "test-results", "webview");

let webview: WebviewPage;
let page: Page;
let problems: string[];

const W = 256;
const H = 128;
/** A horizontal ramp 0..65535 across the width. */
function rampBase64(levels = 65536): string {
  const px = new Uint16Array(W * H);
  const step = 65535 / (levels - 1);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) px[y * W + x] = Math.round(Math.round((x / (W - 1)) * (levels - 1)) * step);
  return Buffer.from(px.buffer).toString("base64");
}

/** An 8-bit PNG as the daemon sends it: values × 257 in the 0..65535 scale, full-range window. */
const PNG_8BIT = {
  type: "image",
  width: W,
  height: H,
  pixels: rampBase64(256),
  window: { center: 32767.5, width: 65535 },
  info: { format: "png", width: W, height: H, bitsStored: 8, frames: 1 },
  tags: [],
  patientTagsHidden: true,
};

/** The window the viewer shows ("C 128 / W 255") as numbers. */
async function shownWindow(): Promise<{ c: number; w: number }> {
  const m = /^C (-?[\d.]+) \/ W ([\d.]+)$/.exec((await page.textContent("#wl")) ?? "");
  assert.ok(m, `window text: ${await page.textContent("#wl")}`);
  return { c: Number(m[1]), w: Number(m[2]) };
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
  const boxes = () => page.evaluate(() => ["image", "overlay"].map((id) => { const r = document.getElementById(id)!.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }));
  /** Equal to within a quarter pixel (a canvas's intrinsic size and a CSS size round differently). */
  const aligned = (a: number[], b: number[], what: string) => assert.ok(a.every((v, i) => Math.abs(v - b[i]!) < 0.25), `${what}: ${a} vs ${b}`);
  const [img0, ov0] = await boxes();
  aligned(ov0!, img0!, "the overlay covers the image");
  const box = (await page.locator("#stage").boundingBox())!;
  await page.mouse.move(box.x + 30, box.y + 20);
  await page.mouse.wheel(0, -300);
  await page.waitForFunction(() => document.getElementById("overlay")!.style.transform === document.getElementById("image")!.style.transform);
  const [img1, ov1] = await boxes();
  assert.notDeepEqual(img1, img0, "zoomed");
  aligned(ov1!, img1!, "still aligned after zoom");
  await page.fill("#opacity", "80");
  await page.dispatchEvent("#opacity", "input");
  assert.equal(await page.evaluate(() => document.getElementById("overlay")!.style.opacity), "0.8");
  mkdirSync(SHOTS, { recursive: true });
  await applyTheme(page, "light");
  await page.screenshot({ path: join(SHOTS, "viewer-heatmap-light.png") });
  await applyTheme(page, "dark");
  await page.screenshot({ path: join(SHOTS, "viewer-heatmap-dark.png") });
  await applyTheme(page, "light");
  // Another finding: its own map is asked for.
  await page.click('#findings li[data-finding="Edema"]');
  assert.deepEqual((await posted(page)).at(-1), { type: "heatmap", finding: "Edema" });
  // A model without a findings classifier: no toggle.
  await deliver(page, { type: "findings", labels: [] });
  await page.waitForFunction(() => document.getElementById("heatmap-controls")!.hidden);
  assert.equal(await page.isVisible("#legend"), false);
  assert.deepEqual(problems, []);
});

test("an 8-bit PNG: window values in 0–255, its own metadata instead of a tag notice, drags proportional to the range", async () => {
  let n = await renders();
  await deliver(page, PNG_8BIT);
  await waitRender(n);
  assert.equal(await page.textContent("#wl"), "C 128 / W 255");
  assert.equal(await page.textContent("#tags-title"), "Image");
  const rows = await page.$$eval("#tags tr", (trs) => trs.map((tr) => Array.from(tr.children).map((td) => td.textContent).join(": ")));
  assert.deepEqual(rows, ["Format: PNG", `Size: ${W} × ${H} px`, "Bit depth: 8 bits per sample", "Values: 0–255"]);
  assert.equal(await page.textContent("#tags-note"), "", "no patient-tag notice for a PNG");
  // A 300 px drag to the left narrows the window by 300/stage-width of the range, never to W 1.
  const box = (await page.locator("#stage").boundingBox())!;
  n = await renders();
  await page.mouse.move(box.x + 400, box.y + 200);
  await page.mouse.down();
  await page.mouse.move(box.x + 100, box.y + 200, { steps: 6 });
  await page.mouse.up();
  await waitRender(n);
  const after = await shownWindow();
  const expected = 255 * (1 - 300 / box.width);
  assert.ok(Math.abs(after.w - expected) <= 2, `W ${after.w}, expected about ${expected.toFixed(0)} (stage ${box.width} px)`);
  assert.equal(after.c, 128, "a horizontal drag keeps the level");
  n = await renders();
  await page.keyboard.press("r");
  await waitRender(n);
  assert.equal(await page.textContent("#wl"), "C 128 / W 255", "r resets to the image's default");
});

test("themes: theme colours for the side panel and probability bars; tag numbers never wrap; long names are cut with a tooltip", async () => {
  const longName = "Enlarged Cardiomediastinum With A Very Long Label Name";
  await deliver(page, { type: "findings", labels: [{ name: "Pneumonia", probability: 0.88 }, { name: longName, probability: 0.04 }, { name: "Edema", probability: 0.31 }] });
  await page.waitForSelector("#findings li:nth-child(3)");
  let n = await renders();
  await deliver(page, {
    type: "image",
    width: W,
    height: H,
    pixels: rampBase64(4096),
    window: { center: 30000, width: 40000 },
    range: { min: 0, max: 4095 },
    info: { format: "dicom", width: W, height: H, bitsStored: 12, frames: 1, view: "PA", photometric: "MONOCHROME2" },
    tags: [
      // Keywords, as the daemon names tags: no spaces to wrap at.
      { tag: "(0002,0000)", name: "FileMetaInformationGroupLength", value: "196", patientIdentifying: false },
      { tag: "(0002,0010)", name: "TransferSyntaxUID", value: "1.2.840.10008.1.2.1", patientIdentifying: false },
      { tag: "(0008,0060)", name: "Modality", value: "DX", patientIdentifying: false },
      { tag: "(0018,1164)", name: "ImagerPixelSpacing", value: "0.139\\0.139", patientIdentifying: false },
    ],
    patientTagsHidden: true,
  });
  await waitRender(n);
  assert.equal(await page.textContent("#wl"), "C 1875 / W 2499", "12-bit DICOM: window in stored units");
  assert.match((await page.textContent("#tags-note")) ?? "", /Patient-identifying tags are hidden/, "DICOM keeps the notice");
  const long = page.locator(`#findings li[data-finding="${longName}"] .name`);
  assert.equal(await long.getAttribute("title"), longName);
  assert.ok(await long.evaluate((e) => e.scrollWidth > e.clientWidth && getComputedStyle(e).textOverflow === "ellipsis"), "a long finding name is cut with an ellipsis");
  for (const theme of THEMES) {
    await applyTheme(page, theme);
    for (const [width, name] of [[1000, `viewer-${theme}.png`], [520, `viewer-narrow-${theme}.png`]] as const) {
      await page.setViewportSize({ width, height: 700 });
      // Every tag number stays on one line, however narrow the panel.
      const lines = await page.$$eval("#tags td.tag", (tds) => tds.map((td) => { const r = document.createRange(); r.selectNodeContents(td); return new Set(Array.from(r.getClientRects()).map((x) => Math.round(x.top))).size; }));
      assert.deepEqual(lines, [1, 1, 1, 1], `${theme} ${width}px: tag numbers on one line`);
      // A long keyword is cut (tooltip), and every value keeps room to be read.
      const cells = await page.$$eval("#tags tr", (trs) => trs.map((tr) => { const [, name, value] = Array.from(tr.children) as HTMLElement[]; return { cut: name!.scrollWidth > name!.clientWidth, title: name!.title, value: value!.getBoundingClientRect().width, rowHeight: tr.getBoundingClientRect().height }; }));
      assert.ok(cells.every((c) => c.value >= 60 && c.rowHeight < 50), `${theme} ${width}px: values readable (3 lines at most): ${JSON.stringify(cells)}`);
      if (width === 1000) assert.deepEqual([cells[0]!.cut, cells[0]!.title], [true, "FileMetaInformationGroupLength"], "a long keyword is cut, with a tooltip");
      await page.screenshot({ path: join(SHOTS, name) });
    }
    const bar = await page.$eval(`#findings li[data-finding="${longName}"] .bar`, (b) => {
      const fill = b.querySelector(".fill")!;
      return { track: getComputedStyle(b).backgroundColor, fill: fill.getBoundingClientRect().width, width: b.getBoundingClientRect().width, page: getComputedStyle(document.body).backgroundColor };
    });
    assert.ok(Math.abs(bar.fill / bar.width - 0.04) < 0.03, `${theme}: p 0.04 fills 4% of the bar (${bar.fill}/${bar.width})`);
    if (theme !== "light") assert.ok(luminance(bar.track) < 0.1, `${theme}: the probability track is dark (${bar.track}), not bright white`);
    else assert.ok(luminance(bar.track) > 0.8, `light: the track is light (${bar.track})`);
  }
  await page.setViewportSize({ width: 1000, height: 700 });
  await applyTheme(page, "light");
  assert.deepEqual(problems, []);
});

test("a decode error is an empty state with Summarize off; Try again asks again, and an image brings the viewer back", async () => {
  await deliver(page, { type: "error", message: "Cannot decode /data/broken.dcm: the pixel data is truncated (expected 131072 bytes, found 512)", fatal: true });
  await page.waitForSelector("#empty:not([hidden])");
  assert.match((await page.textContent("#empty")) ?? "", /This image cannot be displayed.*truncated/s);
  assert.equal(await page.isDisabled("#summarize"), true);
  assert.equal(await page.isVisible("#image"), false, "no black canvas");
  await deliver(page, { type: "busy", busy: false });
  assert.equal(await page.isDisabled("#summarize"), true, "a finished summary elsewhere does not enable it");
  for (const theme of THEMES) {
    await applyTheme(page, theme);
    const colours = await page.evaluate(() => [getComputedStyle(document.getElementById("stage")!).backgroundColor, getComputedStyle(document.body).backgroundColor]);
    assert.equal(colours[0], colours[1], `${theme}: the empty state is on the editor background`);
    await page.screenshot({ path: join(SHOTS, `viewer-error-${theme}.png`) });
  }
  await applyTheme(page, "light");
  const before = (await posted(page)).length;
  await page.click("#retry");
  assert.deepEqual((await posted(page)).slice(before), [{ type: "ready" }]);
  const n = await renders();
  await deliver(page, PNG_8BIT);
  await waitRender(n);
  assert.equal(await page.isVisible("#empty"), false);
  assert.equal(await page.isDisabled("#summarize"), false);
  assert.equal(await page.isVisible("#image"), true);
  assert.deepEqual(problems, []);
});

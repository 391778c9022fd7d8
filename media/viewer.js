// The radiograph viewer webview: window/level by dragging, presets, invert, zoom/pan/fit, a DICOM
// tag panel, the model's findings and a Summarize button. Talks to the extension by messages.
import { createRenderer, decodePixels } from "./window-level.js";
import { clampWindow, dragWindow, formatWindow, imageRange, SCALE_MAX } from "./window-range.js";

const vscode = acquireVsCodeApi();
const $ = (id) => document.getElementById(id);
const canvas = $("image");
const stage = $("stage");
const renderer = createRenderer(canvas);
const overlay = $("overlay");
// The saliency overlay: the finding selected in the findings list, its maps as they arrive
// (one per finding, for this image and model), whether it is shown.
const heat = { selected: undefined, maps: new Map(), on: false };

// Windows are kept in the 0..65535 pixel scale and shown in the image's own units (`range`).
const state = { width: 0, height: 0, center: 32768, window: 65536, invert: false, scale: 1, x: 0, y: 0, defaults: { center: 32768, width: 65536 }, range: { lo: 0, hi: SCALE_MAX }, failed: false };
const PRESETS = {
  default: () => state.defaults,
  full: () => ({ center: SCALE_MAX / 2, width: SCALE_MAX }),
  soft: () => ({ center: state.defaults.center, width: state.defaults.width * 0.5 }),
  bright: () => ({ center: state.defaults.center * 0.8, width: state.defaults.width }),
  dense: () => ({ center: state.defaults.center * 1.2, width: state.defaults.width * 0.7 }),
};

let pending = false;
function scheduleRender() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    renderer.render(state.center, state.window, state.invert);
    $("wl").textContent = formatWindow({ center: state.center, width: state.window }, state.range);
    canvas.dataset.center = String(Math.round(state.center));
    canvas.dataset.window = String(Math.round(state.window));
    canvas.dataset.invert = String(state.invert);
    document.body.dataset.rendered = String((Number(document.body.dataset.rendered) || 0) + 1);
  });
}

function applyTransform() {
  canvas.style.transform = `translate(${state.x}px, ${state.y}px) scale(${state.scale})`;
  overlay.style.transform = canvas.style.transform; // the map moves with the image
  $("zoom").textContent = `${Math.round(state.scale * 100)}%`;
}

function fit() {
  if (!state.width) return;
  const r = stage.getBoundingClientRect();
  state.scale = Math.min(r.width / state.width, r.height / state.height) || 1;
  state.x = (r.width - state.width * state.scale) / 2;
  state.y = (r.height - state.height * state.scale) / 2;
  applyTransform();
}

function setWindow(c, w) {
  const v = clampWindow({ center: c, width: w }, state.range);
  state.center = v.center;
  state.window = v.width;
  scheduleRender();
}

// Left-drag: window (horizontal) and level (vertical). Shift-drag or middle-drag: pan.
let drag;
stage.addEventListener("pointerdown", (e) => {
  if (state.failed) return; // the empty state's button gets the click
  drag = { x: e.clientX, y: e.clientY, pan: e.shiftKey || e.button === 1, c: state.center, w: state.window, px: state.x, py: state.y };
  stage.setPointerCapture(e.pointerId);
});
stage.addEventListener("pointermove", (e) => {
  if (!drag) return;
  const dx = e.clientX - drag.x;
  const dy = e.clientY - drag.y;
  if (drag.pan) {
    state.x = drag.px + dx;
    state.y = drag.py + dy;
    applyTransform();
  } else {
    const r = stage.getBoundingClientRect();
    const v = dragWindow({ center: drag.c, width: drag.w }, dx, dy, { width: r.width, height: r.height }, state.range);
    setWindow(v.center, v.width);
  }
});
stage.addEventListener("pointerup", () => (drag = undefined));
stage.addEventListener("wheel", (e) => {
  e.preventDefault();
  const r = stage.getBoundingClientRect();
  const mx = e.clientX - r.left;
  const my = e.clientY - r.top;
  const f = Math.exp(-e.deltaY * 0.0015);
  const s = Math.min(32, Math.max(0.02, state.scale * f));
  state.x = mx - ((mx - state.x) * s) / state.scale;
  state.y = my - ((my - state.y) * s) / state.scale;
  state.scale = s;
  applyTransform();
}, { passive: false });

$("preset").addEventListener("change", (e) => {
  const p = PRESETS[e.target.value];
  if (p) {
    const v = p();
    setWindow(v.center, v.width);
  }
});
$("invert").addEventListener("change", (e) => {
  state.invert = e.target.checked;
  scheduleRender();
});
$("fit").addEventListener("click", fit);
$("actual").addEventListener("click", () => {
  state.scale = 1;
  state.x = 0;
  state.y = 0;
  applyTransform();
});
$("summarize").addEventListener("click", () => vscode.postMessage({ type: "summarize" }));
$("retry").addEventListener("click", () => {
  setFailed(undefined);
  $("status").textContent = "Loading…";
  vscode.postMessage({ type: "ready" });
});
document.addEventListener("keydown", (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
  if (e.key === "i") $("invert").click();
  else if (e.key === "f") fit();
  else if (e.key === "r") setWindow(state.defaults.center, state.defaults.width);
});
window.addEventListener("resize", () => fit());

/** A row of the side table: [label, value] cells, the label never wrapping, a long value cut with its full text as a tooltip. */
function row(label, value, tag) {
  const tr = document.createElement("tr");
  for (const [v, cls] of [[tag, "tag"], [label, "name"], [value, "value"]]) {
    if (v === undefined) continue;
    const td = document.createElement("td");
    td.className = cls;
    td.textContent = v;
    td.title = v;
    tr.append(td);
  }
  return tr;
}

/** A decode error: an empty state in place of the image, Summarize off until it loads. */
function setFailed(message) {
  state.failed = message !== undefined;
  document.body.classList.toggle("failed", state.failed);
  $("empty").hidden = !state.failed;
  $("empty-reason").textContent = message ?? "";
  $("summarize").disabled = state.failed;
  $("summarize").title = state.failed ? "This image could not be displayed, so it cannot be summarized" : "Summarize this radiograph into its report";
  if (state.failed) {
    document.body.dataset.error = "true";
    $("status").textContent = "";
  } else delete document.body.dataset.error;
}

function showImage(m) {
  setFailed(undefined);
  state.width = m.width;
  state.height = m.height;
  state.range = imageRange(m.info, m.range);
  state.defaults = { center: m.window.center, width: m.window.width };
  $("preset").value = "default";
  renderer.setImage(decodePixels(m.pixels), m.width, m.height);
  setWindow(m.window.center, m.window.width);
  fit();
  const info = `${m.info.format.toUpperCase()} ${m.info.width}×${m.info.height}, ${m.info.bitsStored}-bit` + (m.info.view ? `, ${m.info.view}` : "");
  $("info").textContent = info;
  $("info").title = info;
  const tbody = $("tags");
  tbody.replaceChildren();
  const dicom = m.info.format === "dicom";
  // DICOM: its tags (patient ones hidden unless the setting shows them). Other formats have no
  // patient tags: their own metadata instead.
  $("tags-title").textContent = dicom ? "Tags" : "Image";
  document.body.dataset.format = m.info.format;
  if (dicom) for (const t of m.tags) tbody.append(row(t.name, t.value, t.tag));
  else {
    const rows = [
      ["Format", m.info.format.toUpperCase()],
      ["Size", `${m.info.width} × ${m.info.height} px`],
      ["Bit depth", `${m.info.bitsStored} bits per sample`],
      ["Values", `${state.range.lo}–${state.range.hi}`],
    ];
    if (m.info.photometric) rows.push(["Colour", m.info.photometric]);
    if (m.info.frames > 1) rows.push(["Frames", String(m.info.frames)]);
    for (const [k, v] of rows) tbody.append(row(k, v));
  }
  $("tags-note").textContent = dicom && m.patientTagsHidden ? "Patient-identifying tags are hidden (setting xraygpt.viewer.showPatientTags)." : "";
  $("status").textContent = "";
  document.body.dataset.loaded = "true";
}

/** Jet colour map, t in [0, 1]. */
function jet(t) {
  const c = (v) => Math.round(255 * Math.min(1, Math.max(0, v)));
  return [c(1.5 - Math.abs(4 * t - 3)), c(1.5 - Math.abs(4 * t - 2)), c(1.5 - Math.abs(4 * t - 1))];
}

/** Draws the selected finding's map over the image (grid cells scaled to the image), or hides it. */
function showHeatmap() {
  const map = heat.on && heat.selected ? heat.maps.get(heat.selected) : undefined;
  overlay.hidden = !map;
  $("legend").hidden = !map;
  $("opacity-control").hidden = !heat.on;
  if (!map) return;
  overlay.width = map.cols;
  overlay.height = map.rows;
  const ctx = overlay.getContext("2d");
  const img = ctx.createImageData(map.cols, map.rows);
  const span = map.max - map.min || 1;
  for (let i = 0; i < map.values.length; i++) {
    const [r, g, b] = jet((map.values[i] - map.min) / span);
    img.data.set([r, g, b, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  // The grid covers cols × cell of the model's input, which is the whole image resized.
  overlay.style.width = `${(state.width * map.cols * map.cell) / map.inputWidth}px`;
  overlay.style.height = `${(state.height * map.rows * map.cell) / map.inputHeight}px`;
  overlay.style.opacity = String(Number($("opacity").value) / 100);
  applyTransform();
  $("legend-title").textContent = `${map.finding} (p ${map.probability.toFixed(2)}): probability drop when hidden`;
  $("legend-min").textContent = map.min.toFixed(3);
  $("legend-max").textContent = map.max.toFixed(3);
  document.body.dataset.heatmap = map.finding;
}

function requestHeatmap() {
  if (!heat.on || !heat.selected) return showHeatmap();
  if (heat.maps.has(heat.selected)) return showHeatmap();
  $("status").textContent = `Computing where the model looked for ${heat.selected}…`;
  vscode.postMessage({ type: "heatmap", finding: heat.selected });
}

$("heatmap").addEventListener("change", (e) => {
  heat.on = e.target.checked;
  requestHeatmap();
});
$("opacity").addEventListener("input", () => showHeatmap());

// `source` "text": a model without a classifier; the labels were read from its generated text.
function showFindings(labels, source) {
  const list = $("findings");
  list.replaceChildren();
  heat.maps.clear();
  const sorted = [...labels].sort((a, b) => b.probability - a.probability);
  const fromText = source === "text";
  // Only a model with a findings classifier has maps; the toggle is hidden for the others.
  $("heatmap-controls").hidden = sorted.length === 0 || fromText;
  if (fromText) {
    const note = document.createElement("li");
    note.className = "muted source";
    note.textContent = sorted.length ? "Read from the model's text (no classifier):" : "Read from the model's text (no classifier): no observation named.";
    list.append(note);
  }
  if (!sorted.some((l) => l.name === heat.selected)) heat.selected = sorted[0]?.name;
  for (const l of sorted) {
    const li = document.createElement("li");
    if (fromText) {
      const name = document.createElement("span");
      name.textContent = l.name;
      const p = document.createElement("span");
      p.className = "p";
      p.textContent = l.probability === 1 ? "stated" : l.probability === 0 ? "negated" : "uncertain";
      li.append(name, p);
      list.append(li);
      continue;
    }
    li.classList.add("selectable");
    li.classList.toggle("selected", l.name === heat.selected);
    li.dataset.finding = l.name;
    li.addEventListener("click", () => {
      heat.selected = l.name;
      for (const other of list.children) other.classList.toggle("selected", other.dataset.finding === l.name);
      requestHeatmap();
    });
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = l.name;
    name.title = l.name;
    // A theme-coloured bar (a <meter> keeps the browser's light track in dark themes).
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.setAttribute("role", "meter");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "1");
    bar.setAttribute("aria-valuenow", String(l.probability));
    bar.setAttribute("aria-label", `${l.name} probability`);
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = `${Math.round(Math.min(1, Math.max(0, l.probability)) * 100)}%`;
    bar.append(fill);
    const p = document.createElement("span");
    p.className = "p";
    p.textContent = l.probability.toFixed(2);
    li.append(name, bar, p);
    list.append(li);
  }
  requestHeatmap();
}

window.addEventListener("message", (e) => {
  const m = e.data;
  if (!m || typeof m.type !== "string") return;
  if (m.type === "image" && typeof m.pixels === "string" && Number.isInteger(m.width) && Number.isInteger(m.height)) showImage(m);
  else if (m.type === "findings" && Array.isArray(m.labels)) showFindings(m.labels, m.source);
  else if (m.type === "busy") $("summarize").disabled = Boolean(m.busy) || state.failed;
  else if (m.type === "status" && typeof m.message === "string") {
    $("status").textContent = m.message;
    $("status").classList.remove("error");
  }
  else if (m.type === "heatmap" && m.map && Array.isArray(m.map.values) && typeof m.map.finding === "string") {
    heat.maps.set(m.map.finding, m.map);
    $("status").textContent = "";
    showHeatmap();
  }
  else if (m.type === "error" && typeof m.message === "string") {
    // The image itself failed (decoding): the empty state. Anything else: a line under the image.
    if (m.fatal) setFailed(m.message);
    else {
      $("status").textContent = m.message;
      $("status").classList.add("error");
      document.body.dataset.error = "true";
    }
  }
});
vscode.postMessage({ type: "ready" });

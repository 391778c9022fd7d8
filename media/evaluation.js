// The evaluation webview: bar charts (pure SVG) of each metric's mean with its 95% bootstrap
// interval as whiskers, and of each CheXpert label's F1, with a table view of the same numbers.
// Receives { type: "report", report } from the extension; posts "ready" and "open".
const vscode = acquireVsCodeApi();
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const fmt = (v) => (v === null || v === undefined ? "–" : v.toFixed(4));
const LABEL_W = 250; // fits "Enlarged Cardiomediastinum (n=123)"
const BAR_W = 380;
const ROW_H = 24;

function svgEl(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A horizontal bar chart on a 0..1 scale; rows: { name, value, low?, high?, note? }. */
function barChart(id, title, rows) {
  const top = 22;
  const height = top + rows.length * ROW_H + 8;
  const width = LABEL_W + BAR_W + 90;
  const x = (v) => LABEL_W + Math.max(0, Math.min(1, v)) * BAR_W;
  const svg = svgEl("svg", { id, class: "chart", role: "img", tabindex: 0, viewBox: `0 0 ${width} ${height}`, width, height });
  const summary = rows.map((r) => `${r.name} ${fmt(r.value)}`).join(", ");
  svg.setAttribute("aria-label", `${title}: ${summary}`);
  svg.append(svgEl("title", {}, title));
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(svgEl("line", { class: "grid", x1: x(t), x2: x(t), y1: top - 4, y2: height - 8 }));
    svg.append(svgEl("text", { class: "tick", x: x(t), y: top - 8, "text-anchor": "middle" }, String(t)));
  }
  rows.forEach((r, i) => {
    const y = top + i * ROW_H;
    const g = svgEl("g", { class: "row", "data-name": r.name });
    g.append(svgEl("text", { class: "name", x: LABEL_W - 8, y: y + ROW_H / 2 + 4, "text-anchor": "end" }, r.note ? `${r.name} ${r.note}` : r.name));
    if (r.value !== null && r.value !== undefined) {
      const bar = svgEl("rect", { class: "bar", x: LABEL_W, y: y + 4, width: Math.max(0, x(r.value) - LABEL_W), height: ROW_H - 8, "data-value": r.value });
      bar.append(svgEl("title", {}, `${r.name}: ${fmt(r.value)}${r.low !== undefined ? ` (95% CI ${fmt(r.low)}–${fmt(r.high)})` : ""}`));
      g.append(bar);
    }
    if (r.low !== undefined && r.high !== undefined) {
      const cy = y + ROW_H / 2;
      const ci = svgEl("g", { class: "ci", "data-low": r.low, "data-high": r.high });
      ci.append(svgEl("line", { x1: x(r.low), x2: x(r.high), y1: cy, y2: cy }));
      ci.append(svgEl("line", { x1: x(r.low), x2: x(r.low), y1: cy - 5, y2: cy + 5 }));
      ci.append(svgEl("line", { x1: x(r.high), x2: x(r.high), y1: cy - 5, y2: cy + 5 }));
      g.append(ci);
    }
    g.append(svgEl("text", { class: "value", x: LABEL_W + BAR_W + 8, y: y + ROW_H / 2 + 4 }, r.value === null || r.value === undefined ? "n/a" : r.value.toFixed(3)));
    svg.append(g);
  });
  return svg;
}

function table(id, caption, header, rows) {
  const t = document.createElement("table");
  t.id = id;
  const c = document.createElement("caption");
  c.textContent = caption;
  t.append(c);
  const head = t.createTHead().insertRow();
  for (const h of header) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    r.forEach((v, j) => {
      const cell = j === 0 ? document.createElement("th") : document.createElement("td");
      if (j === 0) cell.scope = "row";
      cell.textContent = v;
      tr.append(cell);
    });
  }
  return t;
}

function isReport(r) {
  return r && typeof r === "object" && r.scores && Array.isArray(r.scores.metrics) && r.scores.labels && typeof r.scores.labels.perLabel === "object" && r.counts;
}

function render(report) {
  if (!isReport(report)) {
    $("status").textContent = "The evaluation result is not in the expected format.";
    return;
  }
  $("status").textContent = "";
  const c = report.counts;
  const o = report.scores.options;
  $("title").textContent = `Evaluation of ${c.pairs} report pair${c.pairs === 1 ? "" : "s"}`;
  $("pred-name").textContent = report.predictions;
  $("ref-name").textContent = report.references;
  $("counts").textContent =
    `${c.unmatchedPredictions} predictions without a reference, ${c.referencesWithoutPrediction} references without a prediction, ` +
    `${c.emptyReferences} empty references, ${c.failedPredictions} failed annotations, ${c.skippedLines} unusable lines. ` +
    `Whiskers: 95% percentile bootstrap (${o.bootstrap} resamples, seed ${o.seed}); uncertain labels count as ${o.uncertain}.`;
  const metrics = report.scores.metrics.map((m) => ({ name: m.name, value: m.value, ...(m.ci95 ? { low: m.ci95.low, high: m.ci95.high } : {}) }));
  const labels = Object.entries(report.scores.labels.perLabel).map(([name, s]) => ({ name, value: s.f1, note: `(n=${s.support})`, s }));
  $("charts").replaceChildren(
    heading("Metrics (mean, 95% CI)"),
    barChart("metrics-chart", "Metrics, mean with 95% bootstrap interval", metrics),
    heading("CheXpert label F1"),
    barChart("labels-chart", "F1 per CheXpert label", labels),
  );
  $("tables").replaceChildren(
    table("metrics-table", "Metrics", ["Metric", "Value", "95% CI"], report.scores.metrics.map((m) => [m.name, fmt(m.value), m.ci95 ? `${fmt(m.ci95.low)} – ${fmt(m.ci95.high)}` : "–"])),
    table("labels-table", "CheXpert labels", ["Observation", "Precision", "Recall", "F1", "Ref +", "Pred +"], labels.map(({ name, s }) => [name, fmt(s.precision), fmt(s.recall), fmt(s.f1), String(s.support), String(s.tp + s.fp)])),
  );
}

function heading(text) {
  const h = document.createElement("h2");
  h.textContent = text;
  return h;
}

function showTables(on) {
  $("charts").hidden = on;
  $("tables").hidden = !on;
  const b = $("toggle");
  b.setAttribute("aria-pressed", String(on));
  b.textContent = on ? "Show charts" : "Show tables";
  vscode.setState({ ...(vscode.getState() ?? {}), tables: on });
}

$("toggle").addEventListener("click", () => showTables($("tables").hidden));
$("pred-name").addEventListener("click", () => vscode.postMessage({ type: "open", file: "predictions" }));
$("ref-name").addEventListener("click", () => vscode.postMessage({ type: "open", file: "references" }));
window.addEventListener("message", (e) => {
  const m = e.data;
  if (!m || m.type !== "report") return;
  vscode.setState({ ...(vscode.getState() ?? {}), report: m.report });
  render(m.report);
});
const saved = vscode.getState();
if (saved?.report) render(saved.report);
showTables(saved?.tables === true);
vscode.postMessage({ type: "ready" });

/**
 * The HTML of the two webviews. Strict CSP: no remote resources, scripts only with this page's
 * nonce, styles and images only from the extension's media folder (`cspSource`).
 */
import { randomBytes } from "node:crypto";

export interface PageResources {
  /** The webview's `cspSource` (vscode-webview:// origin, or http://host in tests). */
  cspSource: string;
  /** Base URI of the media folder as the webview sees it, ending without "/". */
  mediaUri: string;
  nonce?: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString("base64url");
}

export function csp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join("; ");
}

function page(r: PageResources, title: string, css: string, script: string, body: string): string {
  const nonce = r.nonce ?? makeNonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp(r.cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${r.mediaUri}/${css}">
<title>${title}</title>
</head>
<body>
${body}
<script type="module" nonce="${nonce}" src="${r.mediaUri}/${script}"></script>
</body>
</html>`;
}

export function viewerHtml(r: PageResources): string {
  return page(
    r,
    "Radiograph",
    "viewer.css",
    "viewer.js",
    `<div class="toolbar" role="toolbar" aria-label="Viewer">
  <button id="summarize" title="Summarize this radiograph into its report">Summarize</button>
  <label>Window <select id="preset" aria-label="Window preset">
    <option value="default">Default</option><option value="full">Full range</option>
    <option value="soft">Narrow</option><option value="bright">Brighter</option><option value="dense">Darker</option>
  </select></label>
  <label><input type="checkbox" id="invert"> Invert (i)</label>
  <button id="fit" title="Fit to window (f)">Fit</button>
  <button id="actual" title="Actual size">1:1</button>
  <label id="heatmap-controls" hidden title="Overlay where the model looked for the finding selected in the findings list (occlusion map)"><input type="checkbox" id="heatmap"> Where the model looked</label>
  <label id="opacity-control" hidden>Opacity <input type="range" id="opacity" min="0" max="100" value="45" aria-label="Overlay opacity"></label>
  <span id="zoom" class="muted"></span>
  <span id="wl" class="muted" aria-live="polite"></span>
  <span id="info" class="muted"></span>
</div>
<div class="main">
  <div id="stage" tabindex="0" aria-label="Radiograph. Drag to change window and level, shift-drag to pan, wheel to zoom."><canvas id="image"></canvas><canvas id="overlay" hidden></canvas>
    <div id="legend" hidden><span id="legend-title"></span><span class="bar"></span><span id="legend-min"></span><span id="legend-max"></span></div>
    <div id="empty" class="empty" role="alert" hidden><h2>This image cannot be displayed</h2><p id="empty-reason"></p><p class="muted">Summarize is off until it can be read. Fix or replace the file, then try again.</p><button id="retry">Try again</button></div></div>
  <aside class="side">
    <h2>Findings</h2>
    <ul id="findings" aria-label="Vision model findings"><li class="muted">No findings yet.</li></ul>
    <h2 id="tags-title">Tags</h2>
    <p id="tags-note" class="muted"></p>
    <table class="tags"><tbody id="tags"></tbody></table>
  </aside>
</div>
<div id="status" role="status"></div>`,
  );
}

export function chatHtml(r: PageResources): string {
  return page(
    r,
    "XrayGPT Chat",
    "chat.css",
    "chat.js",
    `<div id="subject"></div>
<div id="log" role="log" aria-live="polite" aria-label="Conversation"></div>
<div id="status" role="status"></div>
<div class="composer">
  <textarea id="input" aria-label="Question about the radiograph" placeholder="Ask about this radiograph (Enter to send)"></textarea>
  <div class="buttons">
    <button id="send">Send</button>
    <button id="stop" hidden title="Stop (Escape)">Stop</button>
    <button id="clear" title="Start a new conversation">New conversation</button>
  </div>
</div>`,
  );
}

export function evaluationHtml(r: PageResources): string {
  return page(
    r,
    "XrayGPT Evaluation",
    "evaluation.css",
    "evaluation.js",
    `<h1 id="title">Evaluation</h1>
<p class="files">Predictions <button class="link" id="pred-name" title="Open the predictions file"></button>, references <button class="link" id="ref-name" title="Open the references file"></button></p>
<p id="counts"></p>
<div class="toolbar"><button id="toggle" aria-pressed="false" aria-controls="charts tables">Show tables</button></div>
<div id="status" role="status"></div>
<section id="charts" aria-label="Charts"></section>
<section id="tables" aria-label="Tables" hidden></section>`,
  );
}

import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_QUESTION_CHARS, parseChatMessage, parseEvaluationMessage, parseViewerMessage } from "./messages.js";
import { csp, chatHtml, evaluationHtml, viewerHtml } from "./html.js";

test("viewer messages: only known, exact shapes pass", () => {
  assert.deepEqual(parseViewerMessage({ type: "summarize" }), { ok: true, message: { type: "summarize" } });
  for (const bad of [null, 3, "summarize", [], { type: "summarize", image: "/etc/passwd" }, { type: "run" }, { kind: "ready" }]) {
    assert.equal(parseViewerMessage(bad).ok, false, JSON.stringify(bad));
  }
});

test("chat messages: text is trimmed and bounded, index is a non-negative integer", () => {
  assert.deepEqual(parseChatMessage({ type: "ask", text: "  Is there an effusion? " }), { ok: true, message: { type: "ask", text: "Is there an effusion?" } });
  const r = parseChatMessage({ type: "ask", text: "x".repeat(MAX_QUESTION_CHARS + 1) });
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : "", /longer than/);
  for (const bad of [{ type: "ask", text: "   " }, { type: "ask", text: 5 }, { type: "ask" }, { type: "insert", index: -1 }, { type: "insert", index: 1.5 }, { type: "insert", index: "0" }, { type: "stop", now: true }]) {
    assert.equal(parseChatMessage(bad).ok, false, JSON.stringify(bad));
  }
  assert.deepEqual(parseChatMessage({ type: "insert", index: 2 }), { ok: true, message: { type: "insert", index: 2 } });
});

test("pages carry a strict CSP whose nonce matches the script's", () => {
  for (const html of [viewerHtml({ cspSource: "https://x.vscode-cdn.net", mediaUri: "https://x.vscode-cdn.net/media" }), chatHtml({ cspSource: "vscode-webview:", mediaUri: "m" })]) {
    const nonce = /script-src 'nonce-([\w-]+)'/.exec(html)?.[1];
    assert.ok(nonce);
    assert.ok(html.includes(`<script type="module" nonce="${nonce}"`));
    assert.match(html, /default-src 'none'/);
    assert.doesNotMatch(html, /https?:\/\/(?!x\.vscode-cdn\.net)/, "no remote resources");
    assert.equal((html.match(/<script/g) ?? []).length, 1);
  }
  assert.notEqual(/nonce-([\w-]+)/.exec(chatHtml({ cspSource: "a", mediaUri: "m" }))?.[1], /nonce-([\w-]+)/.exec(chatHtml({ cspSource: "a", mediaUri: "m" }))?.[1], "fresh nonce per page");
  assert.equal(csp("src", "n"), "default-src 'none'; img-src src data: blob:; style-src src; font-src src; script-src 'nonce-n'");
});

test("evaluation messages: ready, and open of exactly the predictions or references file", () => {
  assert.deepEqual(parseEvaluationMessage({ type: "ready" }), { ok: true, message: { type: "ready" } });
  assert.deepEqual(parseEvaluationMessage({ type: "open", file: "references" }), { ok: true, message: { type: "open", file: "references" } });
  for (const bad of [null, { type: "open" }, { type: "open", file: "/etc/passwd" }, { type: "open", file: "predictions", path: "/x" }, { type: "ready", x: 1 }, { type: "export" }, { file: "predictions" }]) {
    assert.equal(parseEvaluationMessage(bad).ok, false, JSON.stringify(bad));
  }
  const html = evaluationHtml({ cspSource: "vscode-webview:", mediaUri: "m" });
  const nonce = /script-src 'nonce-([\w-]+)'/.exec(html)?.[1];
  assert.ok(nonce && html.includes(`<script type="module" nonce="${nonce}" src="m/evaluation.js">`));
  assert.doesNotMatch(html, /https?:\/\//, "no remote resources");
});

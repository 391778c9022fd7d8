import { test } from "node:test";
import assert from "node:assert/strict";
import { JobRouter } from "./jobs.js";
import { notRunningMessage, statusText } from "./status-text.js";
import { ChatHistory, MAX_ENTRIES } from "./chat-history.js";
import { readConfig } from "./config.js";
import { commandLine, serveCommand } from "./bootstrap.js";
import type { ServerStatus } from "@xraygpt/protocol";

test("tokens and progress reach only their own job, and stop after it ends", () => {
  const r = new JobRouter();
  const a: string[] = [];
  const b: string[] = [];
  const ja = r.start({ onToken: (t) => a.push(t) });
  const jb = r.start({ onToken: (t) => b.push(t), onProgress: (p) => b.push(`[${p.stage}]`) });
  assert.notEqual(ja.jobId, jb.jobId);
  r.token({ jobId: ja.jobId, text: "x", index: 0 });
  r.progress({ jobId: jb.jobId, stage: "generate" });
  r.token({ jobId: jb.jobId, text: "y", index: 0 });
  ja.end();
  r.token({ jobId: ja.jobId, text: "late", index: 1 });
  r.token({ jobId: "unknown", text: "z", index: 0 });
  assert.deepEqual([a, b, r.size], [["x"], ["[generate]", "y"], 1]);
});

const status: ServerStatus = {
  version: "0.1.0", protocolVersion: 1, health: "ok", quiescent: false, defaultModel: "xraygpt-mini", loadedModels: ["xraygpt-mini"],
  device: { vision: "cpu", llm: "cuda" }, queue: { running: 1, queued: 2 }, pid: 42,
};

test("status bar text shows model, device and queue", () => {
  const s = statusText("running", status, undefined);
  assert.equal(s.text, "$(loading~spin) xraygpt-mini · GPU · 1 running, 2 queued");
  assert.match(s.tooltip, /Device: vision cpu, LLM cuda/);
  assert.equal(statusText("running", { ...status, queue: { running: 0, queued: 0 }, device: { vision: "cpu", llm: "cpu" } }, "tiny").text, "$(pulse) tiny · CPU");
  const remote = statusText("running", {
    ...status,
    queue: { running: 0, queued: 0 },
    device: { vision: "cpu", llm: "remote" },
    remote: [{ model: "gpu-pool", endpoints: [{ url: "http://gpu1:8000/v1", up: true, inFlight: 2, failures: 0 }, { url: "http://gpu2:8000/v1", up: false, inFlight: 0, failures: 3, retryInMs: 3500, lastError: "ECONNREFUSED" }] }],
  }, "gpu-pool");
  assert.equal(remote.text, "$(warning) gpu-pool · remote · 1/2 endpoints down");
  assert.match(remote.tooltip, /Endpoints of gpu-pool: http:\/\/gpu1:8000\/v1 up \(2 in flight\); http:\/\/gpu2:8000\/v1 down \(ECONNREFUSED; retried in 4 s\)/);
  const failed = statusText("failed", undefined, undefined);
  assert.equal(failed.error, true);
  assert.equal(failed.text, "$(error) XrayGPT: not running");
});

test("a request without a running daemon says why in plain words", () => {
  assert.match(notRunningMessage("failed", "cli.js: not found"), /^the XrayGPT daemon is not running \(cli\.js: not found; see/);
  assert.equal(notRunningMessage("failed"), 'the XrayGPT daemon is not running (it stopped; see "XrayGPT: Show Daemon Log", then "XrayGPT: Restart Daemon")');
  assert.equal(notRunningMessage("starting"), "the XrayGPT daemon is still starting; try again in a moment");
  for (const s of ["starting", "restarting", "stopped", "failed"] as const) assert.doesNotMatch(notRunningMessage(s) + statusText(s, undefined, undefined).tooltip, /is failed\b/);
});

test("chat history is kept per image, bounded, with its session id", async () => {
  const m = new Map<string, unknown>();
  const h = new ChatHistory({ get: <T>(k: string) => m.get(k) as T | undefined, update: async (k, v) => void (v === undefined ? m.delete(k) : m.set(k, v)) });
  assert.equal(await h.append("/a.png", { role: "user", text: "q" }, "s1"), 0);
  assert.equal(await h.append("/a.png", { role: "assistant", text: "a", interrupted: true }), 1);
  await h.append("/b.png", { role: "user", text: "other" });
  assert.deepEqual(h.get("/a.png"), { sessionId: "s1", entries: [{ role: "user", text: "q" }, { role: "assistant", text: "a", interrupted: true }] });
  assert.equal(h.get("/b.png").entries.length, 1);
  for (let i = 0; i < MAX_ENTRIES + 5; i++) await h.append("/c.png", { role: "user", text: String(i) });
  assert.equal(h.get("/c.png").entries.length, MAX_ENTRIES);
  assert.equal(h.get("/c.png").entries[0]!.text, "5");
  await h.clear("/a.png");
  assert.deepEqual(h.get("/a.png"), { entries: [] });
});

test("the daemon command line follows the settings", () => {
  const { config } = readConfig((k) => ({ model: "tiny", modelsFolder: "/m", device: "cpu" } as Record<string, unknown>)[k]);
  const checkout = (p: string) => p === "/repo/server/dist/cli.js";
  const electron = { ELECTRON_RUN_AS_NODE: "1" };
  // A checkout: its CLI, with the editor's own runtime.
  assert.deepEqual(serveCommand(config, "/repo/client", checkout, "/ed/node"), { command: "/ed/node", args: ["/repo/server/dist/cli.js", "serve", "--stdio", "--model", "tiny", "--models-dir", "/m", "--device", "cpu"], env: electron });
  // The platform VSIX's own daemon comes before a checkout beside it.
  const both = (p: string) => checkout(p) || p === "/repo/client/daemon/server/bin/xraygpt.js";
  assert.deepEqual(serveCommand(config, "/repo/client", both, "/ed/node").args.slice(0, 2), ["/repo/client/daemon/server/bin/xraygpt.js", "serve"]);
  // Settings win: a node of the user's, a CLI of the user's.
  const mine = readConfig((k) => ({ "server.path": "/opt/x/cli.js", "server.nodePath": "/usr/bin/node22" } as Record<string, unknown>)[k]).config;
  assert.deepEqual(serveCommand(mine, "/repo/client", both), { command: "/usr/bin/node22", args: ["/opt/x/cli.js", "serve", "--stdio", "--device", "auto"] });
  const exe = readConfig((k) => ({ "server.path": "/usr/local/bin/xraygpt" } as Record<string, unknown>)[k]).config;
  assert.deepEqual(serveCommand(exe, "/repo/client", both), { command: "/usr/local/bin/xraygpt", args: ["serve", "--stdio", "--device", "auto"] });
  // Nothing found: xraygpt on PATH.
  const shared = readConfig((k) => ({ daemonMode: "shared", socketPath: "/tmp/x.sock" } as Record<string, unknown>)[k]).config;
  assert.deepEqual(serveCommand(shared, "/nowhere", () => false), { command: "xraygpt", args: ["serve", "--socket", "/tmp/x.sock", "--exit-when-idle", "--device", "auto"] });
  assert.equal(commandLine({ command: "/ed/node", args: ["/a b/cli.js", "serve"], env: electron }), "ELECTRON_RUN_AS_NODE=1 /ed/node '/a b/cli.js' serve");
});

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import sharp from "sharp";
import { XrayEngine } from "../engine/engine.js";
import { makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";
import { writeRemoteModel } from "../testing/remote-fixture.js";

/** A scripted OpenAI-compatible server: each POST takes the next behaviour (the last one repeats). */
type Behaviour = "ok" | 429 | 500 | 503 | "hang" | "reset" | "truncated" | "slow";
interface Seen {
  path: string;
  body: Record<string, unknown>;
  auth?: string;
  closed: Promise<void>;
}

async function fakeServer(script: Behaviour[]) {
  const seen: Seen[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "GET") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [{ id: "m", object: "model" }] }));
    let raw = "";
    for await (const c of req) raw += c;
    const closed = new Promise<void>((r) => res.on("close", () => r()));
    seen.push({ path: req.url!, body: JSON.parse(raw) as Record<string, unknown>, auth: req.headers.authorization, closed });
    const b = script[Math.min(seen.length - 1, script.length - 1)]!;
    if (typeof b === "number") return void res.writeHead(b, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `scripted ${b}`, type: "x", code: null } }));
    if (b === "hang") return;
    if (b === "reset") return void req.socket.destroy();
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chat = req.url!.endsWith("/chat/completions");
    const piece = (text: string, finish: string | null = null) => `data: ${JSON.stringify({ choices: [chat ? { index: 0, delta: { content: text }, finish_reason: finish } : { index: 0, text, finish_reason: finish }] })}\n\n`;
    res.write(piece("No acute "));
    if (b === "truncated") return void res.end();
    if (b === "slow") {
      for (let i = 0; i < 200 && !res.destroyed; i++) {
        res.write(piece("word "));
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    res.write(piece("disease.", "stop"));
    res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 3 } })}\n\n`);
    res.end("data: [DONE]\n\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { url, seen, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

let ws: TestWorkspace;
before(async () => {
  ws = await makeTestWorkspace(2);
});
after(async () => {
  await ws.cleanup();
});

/** An engine whose only extra model is a remote one with this backend spec. */
async function remoteEngine(id: string, backend: Parameters<typeof writeRemoteModel>[2]) {
  await writeRemoteModel(ws.modelsDir, id, backend);
  return new XrayEngine({ modelsDirs: [ws.modelsDir], threads: 1 });
}

test("a remote chat model gets the windowed PNG as a data URL and the findings line, and streams its answer", async () => {
  const s = await fakeServer(["ok"]);
  process.env.XRAYGPT_TEST_REMOTE_KEY = "sk-test-123";
  const engine = await remoteEngine("remote-chat", { baseUrls: [s.url], model: "served-name", apiKeyEnv: "XRAYGPT_TEST_REMOTE_KEY" });
  try {
    let streamed = "";
    const r = await engine.summarize({ image: ws.images[0]!, model: "remote-chat" }, { onToken: (t) => (streamed += t) });
    assert.equal(r.text, "No acute disease.");
    assert.equal(streamed, "No acute disease.");
    assert.equal(r.stopReason, "stop");
    assert.equal(r.timings.tokens, 3);
    assert.equal(r.timings.promptTokens, 11);
    assert.equal(s.seen.length, 1);
    const { body, auth, path } = s.seen[0]!;
    assert.equal(path, "/v1/chat/completions");
    assert.equal(auth, "Bearer sk-test-123");
    assert.equal(body.model, "served-name");
    assert.equal(body.stream, true);
    assert.equal(body.max_tokens, 24);
    const content = (body.messages as { role: string; content: { type: string; text?: string; image_url?: { url: string } }[] }[])[0]!.content;
    const url = content.find((c) => c.type === "image_url")!.image_url!.url;
    assert.match(url, /^data:image\/png;base64,/);
    const png = Buffer.from(url.slice(url.indexOf(",") + 1), "base64");
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [96, 80, 1]);
    const text = content.find((c) => c.type === "text")!.text!;
    assert.ok(text.startsWith(r.findings.conditioningText!), text);
    assert.ok(text.endsWith("Describe the given chest x-ray image in detail."), text);
    assert.equal((await engine.listModels()).find((m) => m.id === "remote-chat")!.available, true);
    assert.equal(engine.status().device.llm, "remote");
  } finally {
    delete process.env.XRAYGPT_TEST_REMOTE_KEY;
    await engine.dispose();
    await s.close();
  }
});

test("a completions model gets the manifest's raw prompt with the findings line and no image; chat turns extend it", async () => {
  const s = await fakeServer(["ok"]);
  const engine = await remoteEngine("remote-text", { baseUrls: [s.url], model: "m", api: "completions" });
  try {
    const first = await engine.chat({ image: ws.images[1]!, model: "remote-text", message: "Is there pneumonia?" });
    const second = await engine.chat({ sessionId: first.sessionId, image: ws.images[1]!, message: "And effusion?" });
    assert.equal(second.text, "No acute disease.");
    assert.equal(s.seen[0]!.path, "/v1/completions");
    const p1 = s.seen[0]!.body.prompt as string;
    assert.equal(p1, `###Patient: ${first.findings.conditioningText} Is there pneumonia? ###Doctor:`);
    assert.equal(s.seen[1]!.body.prompt, `${p1} No acute disease. ###Patient: And effusion? ###Doctor:`);
    assert.equal(JSON.stringify(s.seen[0]!.body).includes("base64"), false);
  } finally {
    await engine.dispose();
    await s.close();
  }
});

test("429 and 500 are retried with backoff and answered once; a stream cut after streamed text is an error, not retried; with no listener it starts again", async () => {
  const s = await fakeServer([429, 500, "ok", "truncated", "truncated", "ok"]);
  const engine = await remoteEngine("remote-retry", { baseUrls: [s.url], model: "m", retries: 2 });
  try {
    const r = await engine.summarize({ image: ws.images[0]!, model: "remote-retry" });
    assert.equal(r.text, "No acute disease.");
    assert.equal(s.seen.length, 3);
    let streamed = "";
    await assert.rejects(engine.summarize({ image: ws.images[0]!, model: "remote-retry" }, { onToken: (t) => (streamed += t) }), (e: Error) => e.message.includes(s.url) && /not retried/.test(e.message));
    assert.equal(streamed, "No acute ");
    assert.equal(s.seen.length, 4);
    // A batch streams to nobody: the cut answer is asked for again, and only the whole one counts.
    const again = await engine.summarize({ image: ws.images[0]!, model: "remote-retry" });
    assert.equal(again.text, "No acute disease.");
    assert.equal(s.seen.length, 6);
  } finally {
    await engine.dispose();
    await s.close();
  }
});

test("a server that hangs times out, one that resets or is down gives an error naming the endpoint", async () => {
  const hang = await fakeServer(["hang"]);
  const reset = await fakeServer(["reset"]);
  const down = await fakeServer(["ok"]);
  await down.close();
  await writeRemoteModel(ws.modelsDir, "remote-hang", { baseUrls: [hang.url], model: "m", timeoutMs: 300, retries: 0 });
  await writeRemoteModel(ws.modelsDir, "remote-reset", { baseUrls: [reset.url], model: "m", retries: 1 });
  await writeRemoteModel(ws.modelsDir, "remote-down", { baseUrls: [down.url], model: "m" });
  const engine = new XrayEngine({ modelsDirs: [ws.modelsDir], threads: 1 });
  try {
    await assert.rejects(engine.summarize({ image: ws.images[0]!, model: "remote-hang" }), (e: Error) => e.message.includes(hang.url) && /within 300 ms/.test(e.message));
    await assert.rejects(engine.summarize({ image: ws.images[0]!, model: "remote-reset" }), (e: Error) => e.message.includes(reset.url) && /2 tries/.test(e.message));
    assert.equal(reset.seen.length, 2);
    await assert.rejects(engine.summarize({ image: ws.images[0]!, model: "remote-down" }), (e: Error) => e.message.includes(down.url) && /ECONNREFUSED/.test(e.message));
  } finally {
    await engine.dispose();
    await Promise.all([hang.close(), reset.close()]);
  }
});

test("two endpoints: a dead one is skipped and the work goes to the other", async () => {
  const dead = await fakeServer(["reset"]);
  const live = await fakeServer(["ok"]);
  const engine = await remoteEngine("remote-two", { baseUrls: [dead.url, live.url], model: "m", retries: 2 });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await engine.summarize({ image: ws.images[0]!, model: "remote-two" })).text, "No acute disease.");
    assert.equal(live.seen.length, 3);
    assert.ok(dead.seen.length <= 1, `the dead endpoint was tried ${dead.seen.length} times`);
  } finally {
    await engine.dispose();
    await Promise.all([dead.close(), live.close()]);
  }
});

test("two endpoints, both failing: the error names each with its cause, and status shows them down", async () => {
  const a = await fakeServer([503]);
  const b = await fakeServer(["reset"]);
  const engine = await remoteEngine("remote-both-down", { baseUrls: [a.url, b.url], model: "m", retries: 1 });
  try {
    await assert.rejects(engine.summarize({ image: ws.images[0]!, model: "remote-both-down" }), (e: Error) => {
      assert.match(e.message, /every endpoint is down \(after 4 tries\)/);
      assert.ok(e.message.includes(`${a.url}: HTTP 503 scripted 503`), e.message);
      assert.ok(e.message.includes(`${b.url}: `), e.message);
      return true;
    });
    assert.deepEqual([a.seen.length, b.seen.length], [2, 2]);
    const health = engine.status().remote!.find((r) => r.model === "remote-both-down")!.endpoints;
    assert.deepEqual(health.map((h) => [h.url, h.up, h.failures]), [[a.url, false, 2], [b.url, false, 2]]);
    assert.ok(health.every((h) => h.retryInMs! > 0 && h.lastError), JSON.stringify(health));
  } finally {
    await engine.dispose();
    await Promise.all([a.close(), b.close()]);
  }
});

test("cancelling aborts the HTTP request and ends the job with the text so far", async () => {
  const s = await fakeServer(["slow"]);
  const engine = await remoteEngine("remote-slow", { baseUrls: [s.url], model: "m" });
  try {
    const ctrl = new AbortController();
    let n = 0;
    const r = await engine.summarize({ image: ws.images[0]!, model: "remote-slow" }, { signal: ctrl.signal, onToken: () => ++n === 5 && ctrl.abort() });
    assert.equal(r.stopReason, "cancelled");
    assert.ok(r.text.startsWith("No acute word"), r.text);
    await s.seen[0]!.closed; // the server saw the connection go
    assert.equal(s.seen.length, 1);
  } finally {
    await engine.dispose();
    await s.close();
  }
});

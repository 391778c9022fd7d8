/**
 * The official `openai` SDK as the client of `xraygpt serve --http`, started as a separate
 * process on 127.0.0.1 on the fixture models.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import OpenAI from "openai";
import { XrayEngine } from "../engine/engine.js";
import { BROKEN_MODEL, FIXTURE_MODEL, LONG_MODEL, makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";
import { FIXTURE_PHI, syntheticGrey, writeDicom } from "../testing/dicom-fixtures.js";
import { runCli, startHttpDaemon, type HttpDaemon } from "../testing/http-daemon.js";

let ws: TestWorkspace;
let server: HttpDaemon;
let config: string;
let client: OpenAI;
let dicom: string;

async function dataUrl(path: string): Promise<string> {
  return `data:image/png;base64,${(await readFile(path)).toString("base64")}`;
}
function imageMessage(url: string, text: string): OpenAI.ChatCompletionMessageParam {
  return { role: "user", content: [{ type: "image_url", image_url: { url } }, ...(text ? [{ type: "text" as const, text }] : [])] };
}

before(async () => {
  ws = await makeTestWorkspace(2);
  config = await mkdtemp(join(ws.dir, "config-"));
  dicom = join(ws.dir, "dicom", "study.dcm");
  await import("node:fs/promises").then((fs) => fs.mkdir(join(ws.dir, "dicom")));
  writeDicom(dicom, { width: 64, height: 48, pixels: syntheticGrey(64, 48, 4095), bitsStored: 12, extra: { Modality: "CR" } });
  server = await startHttpDaemon(["--models-dir", ws.modelsDir, "--model", FIXTURE_MODEL, "--allow-file-urls", join(ws.dir, "dicom"), "--max-body-mb", "1", "--max-in-flight", "2"], {
    ...process.env,
    XDG_CONFIG_HOME: config,
  });
  client = new OpenAI({ baseURL: server.url, apiKey: server.printedKey!, maxRetries: 0 });
});
after(async () => {
  await server?.stop();
  await ws.cleanup();
});

test("the first start makes an API key in a 0600 file in the config folder and prints it", async () => {
  const file = join(config, "xraygpt", "api-key");
  assert.equal((await readFile(file, "utf8")).trim(), server.printedKey);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.match(server.printedKey!, /^xg-[A-Za-z0-9_-]{32}$/);
});

test("models lists the available models (not the broken-on-load one's absence: it is valid until loaded)", async () => {
  const ids: string[] = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.ok(ids.includes(FIXTURE_MODEL) && ids.includes(LONG_MODEL), ids.join(","));
  assert.equal((await client.models.retrieve(FIXTURE_MODEL)).id, FIXTURE_MODEL);
});

test("a non-streamed and a streamed summary of a PNG data URL: the daemon's pipeline, the answer in content, radiology in the xraygpt field", async () => {
  const url = await dataUrl(ws.images[0]!);
  const r = await client.chat.completions.create({ model: FIXTURE_MODEL, messages: [imageMessage(url, "")] });
  // The same image through the engine in this process: the same (greedy) text and findings.
  const engine = new XrayEngine({ modelsDirs: [ws.modelsDir], threads: 1 });
  const local = await engine.summarize({ image: ws.images[0]!, model: FIXTURE_MODEL }).finally(() => engine.dispose());
  assert.equal(r.choices[0]!.message.content, local.text);
  assert.ok(local.text.length > 0);
  assert.equal(r.object, "chat.completion");
  assert.equal(r.choices[0]!.finish_reason, local.stopReason === "maxTokens" ? "length" : "stop");
  assert.equal(r.usage!.completion_tokens, local.timings.tokens);
  assert.equal(r.usage!.prompt_tokens, local.timings.promptTokens);
  const x = (r as unknown as { xraygpt: { findings: { labels: { name: string; probability: number }[]; line: string } } }).xraygpt;
  assert.equal(x.findings.line, local.findings.conditioningText);
  assert.deepEqual(x.findings.labels, local.findings.labels);
  assert.ok(!r.choices[0]!.message.content!.includes("Assessed:"), "the findings line is not in content");

  const stream = await client.chat.completions.create({ model: FIXTURE_MODEL, messages: [imageMessage(url, "")], stream: true, stream_options: { include_usage: true } });
  let text = "";
  let chunks = 0;
  let finish: string | null = null;
  let ext: unknown;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const c of stream) {
    chunks++;
    text += c.choices[0]?.delta.content ?? "";
    finish = c.choices[0]?.finish_reason ?? finish;
    ext ??= (c as unknown as { xraygpt?: unknown }).xraygpt;
    usage ??= c.usage ?? undefined;
  }
  assert.equal(text, local.text);
  assert.ok(chunks > 3, `streamed in ${chunks} chunks`);
  assert.equal(finish, r.choices[0]!.finish_reason);
  assert.deepEqual((ext as typeof x).findings, x.findings);
  assert.equal(usage!.completion_tokens, local.timings.tokens);
  // A stop string of the request's own: the answer ends before its first occurrence.
  const stop = local.text.slice(6, 9);
  const cut = await client.chat.completions.create({ model: FIXTURE_MODEL, messages: [imageMessage(url, "")], stop: [stop] });
  assert.equal(cut.choices[0]!.message.content, local.text.slice(0, local.text.indexOf(stop)));
  assert.equal(cut.choices[0]!.finish_reason, "stop");
});

test("a DICOM by file:// path where allowed; refused outside the allowed folders; no patient data in any answer or log", async () => {
  const r = await client.chat.completions.create({ model: FIXTURE_MODEL, messages: [imageMessage(pathToFileURL(dicom).href, "Describe the image.")] });
  assert.ok(r.choices[0]!.message.content);
  await assert.rejects(client.chat.completions.create({ model: FIXTURE_MODEL, messages: [imageMessage(pathToFileURL(ws.images[0]!).href, "Describe.")] }), (e: InstanceType<typeof OpenAI.APIError>) => e.status === 400 && e.code === "file_url_not_allowed");
  const everything = JSON.stringify(r) + server.stderr();
  for (const v of Object.values(FIXTURE_PHI).filter((v) => v.length > 3)) assert.ok(!everything.includes(v), `${v} leaked`);
  assert.ok(!server.stderr().includes(dicom), "no paths in the log");
});

test("multi-turn: the second request continues the first's session (cached prompt tokens); an edited history starts a new one", async () => {
  const url = await dataUrl(ws.images[1]!);
  const q1 = imageMessage(url, "Is there pneumonia?");
  const first = await client.chat.completions.create({ model: FIXTURE_MODEL, messages: [q1] });
  const a1 = first.choices[0]!.message.content!;
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "system", content: "ignored" }, q1, { role: "assistant", content: a1 }, { role: "user", content: "Is there an effusion?" }];
  const second = await client.chat.completions.create({ model: FIXTURE_MODEL, messages });
  const sid = (r: unknown) => (r as { xraygpt: { sessionId: string } }).xraygpt.sessionId;
  assert.equal(sid(second), sid(first));
  assert.ok(second.usage!.prompt_tokens_details!.cached_tokens! > 0, "the first turn's KV is reused");
  // The same conversation with another first answer: a new session, replayed from the history.
  const edited = await client.chat.completions.create({ model: FIXTURE_MODEL, messages: [q1, { role: "assistant", content: "The lungs are clear." }, { role: "user", content: "Is there an effusion?" }] });
  assert.notEqual(sid(edited), sid(first));
  assert.ok(edited.usage!.prompt_tokens > second.usage!.prompt_tokens - a1.length - 50);
});

test("a client that disconnects mid-stream cancels its job", async () => {
  const ctrl = new AbortController();
  const stream = await client.chat.completions.create({ model: LONG_MODEL, max_tokens: 1500, messages: [imageMessage(await dataUrl(ws.images[0]!), "")], stream: true }, { signal: ctrl.signal });
  let n = 0;
  // The SDK ends the iteration (or throws APIUserAbortError) when aborted.
  await (async () => {
    for await (const c of stream) if (c.choices[0]?.delta.content && ++n === 3) ctrl.abort();
  })().catch((e: Error) => assert.equal(e.name, "APIUserAbortError"));
  assert.equal(n, 3);
  // The daemon logs how far the job got when it ended. Run to its end, this model's answer is over
  // a thousand tokens (1388 for its summary); the tokens made while the disconnect travels vary
  // with the machine's load (102 once on a busy CI machine), so the bound is the one the JSON-RPC
  // cancel test uses.
  const t = performance.now();
  let m: RegExpExecArray | null = null;
  while (!(m = /job was cancelled after (\d+) tokens/.exec(server.stderr())) && performance.now() - t < 30_000) await new Promise((r) => setTimeout(r, 50));
  assert.ok(m, "the job ended as cancelled");
  assert.ok(Number(m[1]) < 1000, `stopped after ${m[1]} tokens`);
});

test("every error status, OpenAI-shaped", async () => {
  const url = await dataUrl(ws.images[0]!);
  const status = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      const err = e as InstanceType<typeof OpenAI.APIError>;
      return { status: err.status, type: (err.error as { type?: string } | undefined)?.type, code: err.code, message: String(err.message) };
    }
    return { status: 200, type: undefined, code: undefined, message: "" };
  };
  const noImage = await status(client.chat.completions.create({ model: FIXTURE_MODEL, messages: [{ role: "user", content: "hello" }] }));
  assert.deepEqual([noImage.status, noImage.type, noImage.code], [400, "invalid_request_error", "missing_image"]);
  assert.equal((await status(client.chat.completions.create({ model: FIXTURE_MODEL, messages: [imageMessage(url, "")], max_tokens: 0 }))).status, 400);
  assert.equal((await status(client.chat.completions.create({ model: FIXTURE_MODEL, messages: [imageMessage("https://example.org/x.png", "")] }))).code, "invalid_image_url");
  const badImage = await status(client.chat.completions.create({ model: FIXTURE_MODEL, messages: [imageMessage(`data:image/png;base64,${Buffer.from("not an image at all").toString("base64")}`, "")] }));
  assert.deepEqual([badImage.status, badImage.code], [400, "invalid_image"]);
  assert.match(badImage.message, /^400 the image_url image: /);
  const wrongKey = await status(new OpenAI({ baseURL: server.url, apiKey: "xg-wrong", maxRetries: 0 }).models.list());
  assert.deepEqual([wrongKey.status, wrongKey.type, wrongKey.code], [401, "authentication_error", "invalid_api_key"]);
  const noKey = await fetch(`${server.url}/models`);
  assert.equal(noKey.status, 401);
  assert.equal(((await noKey.json()) as { error: { type: string } }).error.type, "authentication_error");
  const unknown = await status(client.chat.completions.create({ model: "no-such-model", messages: [imageMessage(url, "")] }));
  assert.deepEqual([unknown.status, unknown.code], [404, "model_not_found"]);
  assert.match(unknown.message, /no-such-model/);
  assert.equal((await status(client.models.retrieve("no-such-model"))).status, 404);
  const big = await status(client.chat.completions.create({ model: FIXTURE_MODEL, messages: [imageMessage(`data:image/png;base64,${"A".repeat(1_200_000)}`, "")] }));
  assert.deepEqual([big.status, big.code], [413, "request_too_large"]);
  const broken = await status(client.chat.completions.create({ model: BROKEN_MODEL, messages: [imageMessage(url, "")] }));
  assert.deepEqual([broken.status, broken.type], [500, "server_error"]);
  assert.match(broken.message, /fixture-broken/);
  // --max-in-flight 2: two long streams in flight, the third is refused.
  const ctrls = [new AbortController(), new AbortController()];
  const long = await Promise.all(ctrls.map((c) => client.chat.completions.create({ model: LONG_MODEL, max_tokens: 1500, messages: [imageMessage(url, "")], stream: true }, { signal: c.signal })));
  const third = await status(client.chat.completions.create({ model: FIXTURE_MODEL, messages: [imageMessage(url, "")] }));
  ctrls.forEach((c) => c.abort());
  await Promise.all(long.map((s) => (async () => { for await (const _ of s); })().catch(() => undefined)));
  assert.deepEqual([third.status, third.type, third.code], [429, "rate_limit_error", "rate_limit_exceeded"]);
  // Both jobs end as cancelled (one from the earlier test), then the server serves again.
  const t = performance.now();
  while ((server.stderr().match(/job was cancelled/g) ?? []).length < 3 && performance.now() - t < 30_000) await new Promise((r) => setTimeout(r, 50));
  assert.ok((await client.chat.completions.create({ model: FIXTURE_MODEL, messages: [imageMessage(url, "")] })).choices[0]!.message.content);
});

test("--api-key-env protects with the given key; --no-auth is refused on a non-loopback address", async () => {
  const keyed = await startHttpDaemon(["--models-dir", ws.modelsDir, "--api-key-env", "XRAYGPT_TEST_KEY"], { ...process.env, XDG_CONFIG_HOME: config, XRAYGPT_TEST_KEY: "sk-from-env" });
  try {
    assert.equal(keyed.printedKey, undefined, "a key from the environment is not printed");
    const ids: string[] = [];
    for await (const m of new OpenAI({ baseURL: keyed.url, apiKey: "sk-from-env", maxRetries: 0 }).models.list()) ids.push(m.id);
    assert.ok(ids.includes(FIXTURE_MODEL));
    await assert.rejects(new OpenAI({ baseURL: keyed.url, apiKey: server.printedKey!, maxRetries: 0 }).models.list(), (e: InstanceType<typeof OpenAI.APIError>) => e.status === 401);
  } finally {
    await keyed.stop();
  }
  const open = runCli(["serve", "--http", "0.0.0.0:0", "--no-auth", "--models-dir", ws.modelsDir], { ...process.env, XDG_CONFIG_HOME: config });
  let err = "";
  open.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise((r) => open.once("exit", r));
  assert.notEqual(code, 0);
  assert.match(err, /--no-auth is only allowed with a loopback address/);
});

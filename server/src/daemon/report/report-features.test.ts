// The report features over a real LSP connection (in-memory streams) with the real engine and the
// fixture model: diagnostics pushed on open, quick fixes and drafting actions, finding hovers.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createConnection, TextDocuments } from "vscode-languageserver/node.js";
import { TextDocument } from "vscode-languageserver-textdocument";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from "vscode-jsonrpc/node.js";
import type { CodeAction, Hover, PublishDiagnosticsParams } from "vscode-languageserver";
import { XrayEngine } from "../../engine/engine.js";
import { writeFixtureModel } from "../../testing/fixture-model.js";
import { writeSyntheticPng } from "../../testing/workspace.js";
import { registerReportFeatures } from "./index.js";
import { CHOOSE_IMAGE_COMMAND } from "./report-image.js";
import { appendDraftEdit, applyEdit, finishDraftEdit, newReportText, streamInsertEdit } from "./report-format.js";

let dir: string;
let engine: XrayEngine;
let client: MessageConnection;
const diagnostics = new Map<string, PublishDiagnosticsParams>();
const waiters: (() => void)[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "xraygpt-report-"));
  const models = join(dir, "models");
  await writeFixtureModel(models, "fixture-tiny");
  await writeFixtureModel(models, "fixture-other");
  await writeSyntheticPng(join(dir, "chest.png"), 2);
  engine = new XrayEngine({ modelsDirs: [models], defaultModel: "fixture-tiny", device: "cpu" });
  const up = new PassThrough();
  const down = new PassThrough();
  const server = createConnection(new StreamMessageReader(up), new StreamMessageWriter(down));
  const documents = new TextDocuments(TextDocument);
  const caps = registerReportFeatures(server, documents, engine, { debounceMs: 10 });
  server.onInitialize(() => ({ capabilities: { textDocumentSync: 1, ...caps } }));
  documents.listen(server);
  server.listen();
  client = createMessageConnection(new StreamMessageReader(down), new StreamMessageWriter(up));
  client.onNotification("textDocument/publishDiagnostics", (p: PublishDiagnosticsParams) => {
    diagnostics.set(p.uri, p);
    waiters.splice(0).forEach((w) => w());
  });
  client.listen();
  const init = (await client.sendRequest("initialize", { processId: null, rootUri: null, capabilities: {} })) as { capabilities: Record<string, unknown> };
  assert.equal(init.capabilities.hoverProvider, true);
  await client.sendNotification("initialized", {});
});

after(async () => {
  client?.dispose();
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function open(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  const uri = pathToFileURL(path).href;
  await client.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "markdown", version: 1, text } });
  while (!diagnostics.has(uri)) await new Promise<void>((r) => waiters.push(r));
  return uri;
}

function reportWithDraft(image: string): string {
  let text = newReportText({ image, model: "fixture-tiny", modelVersion: "0.0.1", time: "2025-01-01T00:00:00.000Z" }, image);
  text = applyEdit(text, appendDraftEdit(text, { jobId: "j", model: "fixture-tiny@0.0.1", time: "2025-01-01T00:00:00.000Z" }));
  text = applyEdit(text, streamInsertEdit(text, "j", "Patchy opacity in the right lower lobe.")!);
  return applyEdit(text, finishDraftEdit(text, "j", "complete")!);
}

test("an unreviewed AI draft is diagnosed, with a quick fix and the drafting actions", async () => {
  const text = reportWithDraft("chest.png");
  const uri = await open("chest.png.report.md", text);
  const d = diagnostics.get(uri)!.diagnostics;
  assert.deepEqual(d.map((x) => x.code), ["unreviewed-draft"]);
  const doc = TextDocument.create(uri, "markdown", 1, text);
  const actions = (await client.sendRequest("textDocument/codeAction", { textDocument: { uri }, range: d[0]!.range, context: { diagnostics: d } })) as CodeAction[];
  assert.deepEqual(actions.map((a) => a.title), ["Mark report as reviewed", "Draft findings from image"]);
  const edit = actions[0]!.edit!.changes![uri]![0]!;
  assert.equal(doc.getText(edit.range), "draft");
  assert.equal(edit.newText, "reviewed");
  assert.deepEqual(actions[1]!.command?.arguments, [uri, "Findings"]);
  assert.equal(actions[0]!.command, undefined, "no annotation log: marking reviewed only edits the status");
});

test("with an annotationLog in the front matter, marking reviewed also runs the record-review command", async () => {
  const text = reportWithDraft("chest.png").replace("status: draft\n", "status: draft\nannotationLog: run.jsonl\n");
  const uri = await open("logged.png.report.md", text);
  const d = diagnostics.get(uri)!.diagnostics;
  const actions = (await client.sendRequest("textDocument/codeAction", { textDocument: { uri }, range: d[0]!.range, context: { diagnostics: d } })) as CodeAction[];
  const mark = actions.find((a) => a.title === "Mark report as reviewed")!;
  assert.equal(mark.edit!.changes![uri]![0]!.newText, "reviewed");
  assert.deepEqual(mark.command, { title: "Record review", command: "xraygpt.recordReview", arguments: [uri] });
});

test("hover on a finding term shows the engine's probability for it", async () => {
  const text = reportWithDraft("chest.png");
  const uri = pathToFileURL(join(dir, "chest.png.report.md")).href;
  const doc = TextDocument.create(uri, "markdown", 1, text);
  const expected = (await engine.findings({ image: join(dir, "chest.png") })).findings.labels.find((l) => l.name === "Lung Opacity")!.probability;
  const hover = (await client.sendRequest("textDocument/hover", { textDocument: { uri }, position: doc.positionAt(text.indexOf("opacity") + 2) })) as Hover;
  assert.ok(hover);
  assert.equal(doc.getText(hover.range!), "opacity");
  assert.match((hover.contents as { value: string }).value, new RegExp(`Lung Opacity\\*\\*: vision model probability \\*\\*${expected.toFixed(2)}\\*\\* \\(fixture-tiny@0\\.0\\.1\\)`));
});

test("the hover's probability is from the model that drafted the report (its front matter), else the default's", async () => {
  const probe = async (name: string, model: string) => {
    const text = reportWithDraft("chest.png").replace("model: fixture-tiny\n", `model: ${model}\n`);
    const uri = pathToFileURL(join(dir, name)).href;
    await client.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "markdown", version: 1, text } });
    const doc = TextDocument.create(uri, "markdown", 1, text);
    const hover = (await client.sendRequest("textDocument/hover", { textDocument: { uri }, position: doc.positionAt(text.indexOf("opacity") + 2) })) as Hover;
    return (hover.contents as { value: string }).value;
  };
  assert.match(await probe("other.png.report.md", "fixture-other"), /\(fixture-other@0\.0\.1\)/);
  assert.match(await probe("gone-model.png.report.md", "no-such-model"), /\(fixture-tiny@0\.0\.1\)/, "a model that is not there: the default's");
});

test("a broken image link is an error on the image value", async () => {
  const uri = await open("gone.png.report.md", newReportText({ image: "gone.png", model: "m", modelVersion: "1", time: "t" }, "gone.png"));
  const d = diagnostics.get(uri)!.diagnostics;
  assert.deepEqual(d.map((x) => [x.code, x.severity]), [["broken-image", 1]]);
  assert.equal(d[0]!.range.start.line, 1);
  const actions = (await client.sendRequest("textDocument/codeAction", { textDocument: { uri }, range: d[0]!.range, context: { diagnostics: d } })) as CodeAction[];
  assert.deepEqual(
    actions.filter((a) => a.kind === "quickfix").map((a) => [a.title, a.command?.command, a.command?.arguments]),
    [["Choose image…", CHOOSE_IMAGE_COMMAND, [uri]]],
    "the quick fix asks the editor for the image",
  );
});

// Runs inside the VS Code extension host (see run.mjs): Summarize on the fixture PNG streams a
// finished report beside it; the viewer opens the DICOM. Same scenario as test/e2e.
const assert = require("node:assert/strict");
const { existsSync, readFileSync } = require("node:fs");
const { join } = require("node:path");
const vscode = require("vscode");
const { waitFor } = require("../e2e/wait-for.cjs");

exports.run = async function run() {
  const ws = process.env.XRAYGPT_TEST_WORKSPACE;
  const ext = vscode.extensions.all.find((e) => e.packageJSON.name === "xraygpt-vscode");
  assert.ok(ext, "the extension is installed");
  await ext.activate();

  const png = vscode.Uri.file(join(ws, "chest.png"));
  await vscode.commands.executeCommand("xraygpt.summarize", png, [png]);
  const report = join(ws, "chest.png.report.md");
  const text = await waitFor(() => existsSync(report) && /state=(complete|interrupted)/.test(readFileSync(report, "utf8")) && readFileSync(report, "utf8"), "the finished report");
  assert.match(text, /^model: fixture-tiny$/m);
  assert.match(text, /^status: draft$/m);

  await vscode.commands.executeCommand("vscode.openWith", vscode.Uri.file(join(ws, "chest.dcm")), "xraygpt.viewer");
  await waitFor(() => vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.label === "chest.dcm")), "the viewer tab");
};

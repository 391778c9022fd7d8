/**
 * "XrayGPT: Evaluate Predictions…": pick a predictions JSONL (an annotation log) and a references
 * CSV (IU X-ray style: `uid` id column, `findings` + `impression` text), optionally a row filter,
 * and show the daemon's evaluation (`xraygpt/evaluate`) as charts in a webview. When no prediction
 * matches a reference id, ask how prediction files map to reference ids (presets such as IU X-ray
 * image names, a field, a pattern) and remember the answer for that references file.
 */
import { basename, dirname } from "node:path";
import * as vscode from "vscode";
import { EvaluateRequest, type EvaluationReport } from "@xraygpt/protocol";
import type { Ctx } from "../ctx.js";
import { parseWhere } from "../research/research-logic.js";
import { showEvaluation } from "../webview/evaluation-panel.js";
import { requestErrorMessage } from "../request-error.js";
import { askIdMapping, rememberedIdMapping, rememberIdMapping } from "./evaluate-ids.js";

async function pickFile(title: string, filters: Record<string, string[]>, near?: vscode.Uri): Promise<vscode.Uri | undefined> {
  return (await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: false, canSelectMany: false, filters, title, openLabel: "Select", ...(near ? { defaultUri: near } : {}) }))?.[0];
}

export function registerEvaluate(ctx: Ctx): vscode.Disposable {
  return vscode.commands.registerCommand("xraygpt.evaluate", async (uri?: unknown) => {
    const pred = uri instanceof vscode.Uri && uri.fsPath.endsWith(".jsonl") ? uri : await pickFile("XrayGPT: predictions (annotation log, JSON lines)", { "JSON lines": ["jsonl"] });
    if (!pred) return;
    const ref = await pickFile("XrayGPT: reference reports (CSV with uid, findings, impression)", { CSV: ["csv"] }, vscode.Uri.file(dirname(pred.fsPath)));
    if (!ref) return;
    const filter = await vscode.window.showInputBox({
      title: "XrayGPT: which reference rows (optional)",
      prompt: "Only rows where COLUMN=VALUE (comma-separated), e.g. split=val. Empty: all rows. Ids are matched on the uid column; text is findings + impression.",
      placeHolder: "split=val",
      validateInput: (v) => {
        const r = parseWhere(v);
        return r.ok ? undefined : r.reason;
      },
    });
    if (filter === undefined) return;
    const where = parseWhere(filter);
    if (!where.ok) return;
    let mapping = rememberedIdMapping(ctx, ref.fsPath);
    let asked = false;
    for (;;) {
      let report: EvaluationReport;
      try {
        const client = ctx.daemon.get();
        const params = { pred: pred.fsPath, ref: ref.fsPath, where: where.where, idColumn: "uid", textColumns: ["findings", "impression"], ...mapping };
        report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: "XrayGPT: evaluating…" }, () => client.sendRequest(EvaluateRequest, params));
      } catch (e) {
        const msg = requestErrorMessage(e);
        // No prediction matched a reference id: ask how they map, then try again.
        const next = await askIdMapping(msg, mapping, asked);
        if (next === "not-a-match-error") return void vscode.window.showErrorMessage(`XrayGPT: evaluation failed: ${msg}`);
        if (!next) return;
        mapping = next;
        asked = true;
        continue;
      }
      if (asked) await rememberIdMapping(ctx, ref.fsPath, mapping);
      ctx.output.appendLine(`evaluate: ${pred.fsPath} vs ${ref.fsPath}: ${report.counts.pairs} pairs`);
      showEvaluation(ctx, report, `Evaluation: ${basename(pred.fsPath)}`);
      return;
    }
  });
}

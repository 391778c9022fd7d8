/**
 * The evaluation webview panel: shows one evaluation report as bar charts and tables
 * (media/evaluation.js). Messages from the page are validated before anything is done.
 */
import * as vscode from "vscode";
import type { EvaluationReport } from "@xraygpt/protocol";
import type { Ctx } from "../ctx.js";
import { evaluationHtml } from "./html.js";
import { parseEvaluationMessage } from "./messages.js";

export function showEvaluation(ctx: Ctx, report: EvaluationReport, title: string): vscode.WebviewPanel {
  const media = vscode.Uri.joinPath(ctx.extension.extensionUri, "dist", "media");
  const panel = vscode.window.createWebviewPanel("xraygpt.evaluation", title, vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [media] });
  panel.webview.html = evaluationHtml({ cspSource: panel.webview.cspSource, mediaUri: panel.webview.asWebviewUri(media).toString() });
  const sub = panel.webview.onDidReceiveMessage((raw: unknown) => {
    const parsed = parseEvaluationMessage(raw);
    if (!parsed.ok) {
      ctx.output.appendLine(`evaluation view: ignored a message (${parsed.reason})`);
      return;
    }
    const m = parsed.message;
    if (m.type === "ready") void panel.webview.postMessage({ type: "report", report });
    else void vscode.window.showTextDocument(vscode.Uri.file(m.file === "predictions" ? report.predictions : report.references), { viewColumn: vscode.ViewColumn.Beside, preview: true });
  });
  panel.onDidDispose(() => sub.dispose());
  return panel;
}

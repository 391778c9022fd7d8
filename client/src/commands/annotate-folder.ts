/**
 * "XrayGPT: Annotate Folder…": asks the daemon (`xraygpt/annotate`) to run every image of a folder
 * through the model into a resumable JSONL annotation log. A cancellable progress notification
 * shows counts and the ETA; cancelling stops the batch cleanly and running it again resumes.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import * as vscode from "vscode";
import { AnnotateProgressNotification, AnnotateRequest, type AnnotateResult } from "@xraygpt/protocol";
import type { Ctx } from "../ctx.js";
import { annotateProgressMessage } from "../research/research-logic.js";
import { requestErrorMessage } from "../request-error.js";

async function pickFolder(uri: unknown): Promise<vscode.Uri | undefined> {
  if (uri instanceof vscode.Uri) return uri;
  return (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: "Annotate", title: "XrayGPT: folder of radiographs to annotate" }))?.[0];
}

function summaryLine(r: AnnotateResult): string {
  return (
    `${r.annotated} annotated, ${r.failed} failed, ${r.skipped} already done` +
    (r.cancelled ? `, ${r.cancelled} left (stopped; run again to continue)` : "") +
    ` of ${r.total} images · ${r.model.id} ${r.model.version}`
  );
}

export function registerAnnotateFolder(ctx: Ctx): vscode.Disposable {
  return vscode.commands.registerCommand("xraygpt.annotateFolder", async (uri?: unknown) => {
    const folder = await pickFolder(uri);
    if (!folder) return;
    const out = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(join(folder.fsPath, "annotations.jsonl")),
      filters: { "Annotation log": ["jsonl"] },
      saveLabel: "Append to this log",
      title: "XrayGPT: annotation log (an existing log is resumed, never overwritten)",
    });
    if (!out) return;
    let client;
    try {
      client = ctx.daemon.get();
    } catch (e) {
      void vscode.window.showErrorMessage(`XrayGPT: ${(e as Error).message}`);
      return;
    }
    const jobId = randomUUID();
    const rel = vscode.workspace.asRelativePath(folder);
    ctx.output.appendLine(`annotate: ${folder.fsPath} → ${out.fsPath}`);
    // Cancelled from the notification or from the status bar ("XrayGPT: Cancel Generation").
    const run = ctx.track();
    const cancel = new vscode.CancellationTokenSource();
    const fromStatusBar = run.token.onCancellationRequested(() => cancel.cancel());
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `XrayGPT: annotating ${rel}`, cancellable: true },
        async (progress, token) => {
          const stop = token.onCancellationRequested(() => cancel.cancel());
          let reported = 0;
          const sub = client.onNotification(AnnotateProgressNotification, (p) => {
            if (p.jobId !== jobId) return;
            const increment = p.total > 0 ? ((p.done - reported) / p.total) * 100 : 0;
            reported = p.done;
            progress.report({ message: annotateProgressMessage(p), increment });
            run.say(`annotating ${rel}: ${p.done}/${p.total}`);
            if (p.current) ctx.output.appendLine(`annotate: [${p.done}/${p.total}] ${p.current}`);
          });
          try {
            return await client.sendRequest(
              AnnotateRequest,
              { jobId, folder: folder.fsPath, out: out.fsPath, ...(ctx.config.model ? { model: ctx.config.model } : {}), generation: { maxTokens: ctx.config.maxTokens, ...(ctx.config.temperature !== undefined ? { temperature: ctx.config.temperature } : {}) } },
              cancel.token,
            );
          } finally {
            sub.dispose();
            stop.dispose();
          }
        },
      );
      ctx.output.appendLine(`annotate: ${out.fsPath}: ${summaryLine(result)}`);
      const message = `XrayGPT: ${rel}: ${summaryLine(result)}`;
      // Not awaited: the status bar goes idle now, not when the notification is dismissed.
      void (result.failed > 0 ? vscode.window.showWarningMessage(message, "Open Log") : vscode.window.showInformationMessage(message, "Open Log")).then((action) => {
        if (action === "Open Log") void vscode.window.showTextDocument(out);
      });
    } catch (e) {
      if (cancel.token.isCancellationRequested) {
        void vscode.window.showInformationMessage(`XrayGPT: annotation of ${rel} stopped; run it again with the same log to continue.`);
        return;
      }
      const msg = requestErrorMessage(e);
      ctx.output.appendLine(`annotate: failed: ${msg}`);
      void vscode.window.showErrorMessage(`XrayGPT: annotation failed: ${msg}`);
    } finally {
      fromStatusBar.dispose();
      cancel.dispose();
      run.done();
    }
  });
}

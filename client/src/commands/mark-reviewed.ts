/**
 * "XrayGPT: Mark Report Reviewed" sets the report's status to reviewed and, when its front matter
 * names an annotation log (`annotationLog:`), records the final text beside the AI draft there
 * (`xraygpt/review`, with the edit distance). `xraygpt.recordReview` records only: the daemon's
 * "Mark report as reviewed" quick fix runs it after its status edit.
 */
import { basename } from "node:path";
import * as vscode from "vscode";
import { ReviewRequest } from "@xraygpt/protocol";
import { isReportPath } from "xraygpt/daemon/report/report-paths";
import { setStatusEdit } from "xraygpt/daemon/report/report-format";
import type { Ctx } from "../ctx.js";
import { reviewOfReport } from "../research/research-logic.js";
import { changesSince } from "../report/report-document.js";
import { requestErrorMessage } from "../request-error.js";

async function reportDocument(arg: unknown): Promise<vscode.TextDocument | undefined> {
  const uri = typeof arg === "string" ? vscode.Uri.parse(arg) : arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (!uri || uri.scheme !== "file" || !isReportPath(uri.fsPath)) {
    void vscode.window.showWarningMessage("XrayGPT: open a report document (*.report.md) to mark it reviewed.");
    return undefined;
  }
  return vscode.workspace.openTextDocument(uri);
}

async function recordReview(ctx: Ctx, doc: vscode.TextDocument): Promise<void> {
  const review = reviewOfReport(doc.uri.fsPath, doc.getText());
  if (!review) return;
  if ("problem" in review) {
    void vscode.window.showWarningMessage(`XrayGPT: review not recorded: ${review.problem}.`);
    return;
  }
  try {
    const r = await ctx.daemon.get().sendRequest(ReviewRequest, review);
    ctx.output.appendLine(`review: ${review.image} → ${review.log} (edit distance ${r.editDistance.distance} words)`);
    void vscode.window.showInformationMessage(
      `XrayGPT: review of ${basename(review.image)} recorded in ${basename(review.log)}: ${r.editDistance.distance} word edits from the AI draft (${(r.editDistance.normalized * 100).toFixed(0)}%).`,
    );
  } catch (e) {
    const msg = requestErrorMessage(e);
    void vscode.window.showErrorMessage(`XrayGPT: review not recorded: ${msg}`);
  }
}

/** The sidecar notes when the report was reviewed and what the user changed in each drafted section. */
async function recordProvenance(ctx: Ctx, doc: vscode.TextDocument): Promise<void> {
  const p = await ctx.decorations.provenance(doc.uri.fsPath);
  if (p.drafts.length === 0) return;
  const changes = changesSince(doc.getText(), p);
  await ctx.decorations.save(doc.uri.fsPath, { ...p, reviewed: { time: new Date().toISOString(), changes } });
}

export function registerMarkReviewed(ctx: Ctx): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand("xraygpt.markReviewed", async (arg?: unknown) => {
      const doc = await reportDocument(arg);
      if (!doc) return;
      const e = setStatusEdit(doc.getText(), "reviewed");
      if (!e) {
        void vscode.window.showWarningMessage("XrayGPT: this report has no front matter to mark reviewed.");
        return;
      }
      const we = new vscode.WorkspaceEdit();
      we.replace(doc.uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.text);
      if (!(await vscode.workspace.applyEdit(we))) return;
      await recordProvenance(ctx, doc);
      await recordReview(ctx, doc);
    }),
    vscode.commands.registerCommand("xraygpt.recordReview", async (arg?: unknown) => {
      const doc = await reportDocument(arg);
      if (doc) await recordReview(ctx, doc);
    }),
  ];
}

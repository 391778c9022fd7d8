/**
 * "XrayGPT: Summarize Radiograph": for each selected image, open its report beside it and stream
 * the summary into a new dated AI-draft section. Cancel from the status bar or the notification.
 */
import { basename } from "node:path";
import * as vscode from "vscode";
import { SummarizeRequest } from "@xraygpt/protocol";
import type { Ctx } from "../ctx.js";
import { runJob } from "../generation.js";
import { DraftStream, openReport } from "../report/report-writer.js";

export const IMAGE_RE = /\.(png|jpe?g|dcm|dicom)$/i;

/** The images of a command invocation: the clicked item, the multi-selection, or the active editor's. */
export function selectedImages(uri: unknown, uris: unknown, activeImage: string | undefined): string[] {
  const list = Array.isArray(uris) && uris.length ? uris : uri ? [uri] : [];
  const paths = list.filter((u): u is vscode.Uri => u instanceof vscode.Uri && u.scheme === "file").map((u) => u.fsPath);
  if (paths.length === 0 && activeImage) paths.push(activeImage);
  return [...new Set(paths)].filter((p) => IMAGE_RE.test(p));
}

export async function summarizeImage(ctx: Ctx, image: string, token: vscode.CancellationToken): Promise<void> {
  const client = ctx.daemon.get();
  const model = await ctx.modelRef();
  const modelLabel = `${model.id}@${model.version}`;
  const doc = await openReport(image, ctx.config.reportsFolder, model);
  const job = ctx.jobs;
  let stream: DraftStream | undefined;
  const outcome = await runJob(
    ctx.daemon,
    job,
    async (jobId, tok) => {
      stream = await DraftStream.begin(doc, { jobId, model: modelLabel, time: new Date().toISOString(), title: "Summary" }, "append");
      return client.sendRequest(
        SummarizeRequest,
        { jobId, image, ...(ctx.config.model ? { model: ctx.config.model } : {}), generation: { maxTokens: ctx.config.maxTokens, ...(ctx.config.temperature !== undefined ? { temperature: ctx.config.temperature } : {}) } },
        tok,
      );
    },
    { onToken: (t) => stream?.push(t) },
    token,
  );
  if (!stream) throw new Error(outcome.ok ? "no draft block" : outcome.reason);
  if (outcome.ok && !outcome.cancelled) await stream.finish("complete");
  else await stream.finish("interrupted", outcome.ok ? "cancelled" : outcome.reason);
  if (!outcome.ok && outcome.reason !== "cancelled") void vscode.window.showErrorMessage(`XrayGPT: summary of ${basename(image)} interrupted: ${outcome.reason}`);
}

export function registerSummarize(ctx: Ctx): vscode.Disposable {
  return vscode.commands.registerCommand("xraygpt.summarize", async (uri?: unknown, uris?: unknown) => {
    const images = selectedImages(uri, uris, ctx.activeImage);
    if (images.length === 0) {
      void vscode.window.showWarningMessage("XrayGPT: select a PNG, JPEG or DICOM image to summarize.");
      return;
    }
    const run = ctx.track();
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: "XrayGPT" },
        async (progress) => {
          for (const [i, image] of images.entries()) {
            if (run.token.isCancellationRequested) break;
            progress.report({ message: `summarizing ${basename(image)}${images.length > 1 ? ` (${i + 1}/${images.length})` : ""}` });
            try {
              await summarizeImage(ctx, image, run.token);
            } catch (e) {
              void vscode.window.showErrorMessage(`XrayGPT: cannot summarize ${basename(image)}: ${e instanceof Error ? e.message : String(e)}`);
            }
          }
        },
      );
    } finally {
      run.done();
    }
  });
}

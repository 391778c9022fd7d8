/**
 * "XrayGPT: Summarize Radiograph": for each selected image, stream the summary into its report's
 * Findings and Impression, in place (a section that has text gets the draft as a proposal). The
 * report opens beside the image's viewer once the daemon has decoded the image — an image that
 * cannot be decoded gets an error naming it and the reason, and no report. Cancel (status bar or
 * notification) keeps exactly the text generated and says so; a batch says what was done and left.
 */
import { basename } from "node:path";
import * as vscode from "vscode";
import { SummarizeRequest, type ProgressParams } from "@xraygpt/protocol";
import type { Ctx } from "../ctx.js";
import { runJob } from "../generation.js";
import { openReport, showImage } from "../report/report-writer.js";
import { SectionDraft, type DraftInfo, type Shape } from "../report/section-draft.js";
import { candidatesText, splitSummary, StreamedText, type DraftedSection } from "../report/report-document.js";
import { examinationText } from "../report/examination.js";
import { batchSummary, draftMessage, stageText, type ImageOutcome } from "../report/draft-messages.js";

export const IMAGE_RE = /\.(png|jpe?g|dcm|dicom)$/i;

/** The images of a command invocation: the clicked item, the multi-selection, or the active editor's. */
export function selectedImages(uri: unknown, uris: unknown, activeImage: string | undefined): string[] {
  const list = Array.isArray(uris) && uris.length ? uris : uri ? [uri] : [];
  const paths = list.filter((u): u is vscode.Uri => u instanceof vscode.Uri && u.scheme === "file").map((u) => u.fsPath);
  if (paths.length === 0 && activeImage) paths.push(activeImage);
  return [...new Set(paths)].filter((p) => IMAGE_RE.test(p));
}

const summaryShape: Shape = (t) => {
  const s = splitSummary(t);
  return { Findings: s.findings, Impression: s.impression };
};

export interface DraftJob {
  image: string;
  sections: readonly DraftedSection[];
  shape: Shape;
  /** What is drafted, for messages ("summary", "findings" ...). */
  what: string;
  prompt?: string;
  /** The report to draft into; opened (created) for the image when absent. */
  doc?: vscode.TextDocument;
}

/**
 * Runs one drafting job into a report and says how it ended. The report is opened (created) only
 * once the daemon is past decoding the image (or the first text arrives).
 */
export async function draftIntoReport(ctx: Ctx, job: DraftJob, token: vscode.CancellationToken, say: (s: string) => void): Promise<ImageOutcome> {
  const name = basename(job.image);
  const client = ctx.daemon.get();
  const t0 = Date.now();
  // The image shows at once (while the daemon decodes it); its report only once it decoded.
  const shown = job.doc ? undefined : showImage(job.image).then(undefined, () => undefined);
  const model = await ctx.modelRef();
  const info: DraftInfo = { jobId: "", model: model.id, modelVersion: model.version, time: new Date().toISOString() };
  const streamed = new StreamedText();
  let note: string | undefined;
  let draft: SectionDraft | undefined;
  let opening: Promise<SectionDraft> | undefined;
  const open = (): Promise<SectionDraft> =>
    (opening ??= (async () => {
      await shown;
      const doc = job.doc ?? (await openReport(job.image, ctx.config.reportsFolder, model));
      const d = new SectionDraft({ doc, decorations: ctx.decorations, proposals: ctx.proposals }, info, job.sections, job.shape);
      d.onFirstVisible = (provisional) => ctx.output.appendLine(`${job.what} of ${name}: first text visible after ${Date.now() - t0} ms${provisional ? " (provisional)" : ""}`);
      if (streamed.text) d.update(streamed.text, streamed.provisional, note);
      draft = d;
      return d;
    })());
  const onProgress = (p: ProgressParams) => {
    note = candidatesText(p.candidates);
    say(stageText(name, p, note));
    if (p.stage !== "queued" && p.stage !== "decode") void open();
    draft?.setNote(note);
  };
  const outcome = await runJob(
    ctx.daemon,
    ctx.jobs,
    (jobId, tok) => {
      info.jobId = jobId;
      const generation = { maxTokens: ctx.config.maxTokens, ...(ctx.config.temperature !== undefined ? { temperature: ctx.config.temperature } : {}) };
      return client.sendRequest(SummarizeRequest, { jobId, image: job.image, ...(job.prompt ? { prompt: job.prompt } : {}), ...(ctx.config.model ? { model: ctx.config.model } : {}), generation }, tok);
    },
    {
      onToken: (_t, p) => {
        streamed.apply(p);
        void open().then((d) => d.update(streamed.text, streamed.provisional, note));
      },
      onProgress,
    },
    token,
  );
  ctx.output.appendLine(`${job.what} of ${name}: ${outcome.ok ? outcome.result.stopReason : outcome.reason} after ${Date.now() - t0} ms`);
  // The result's text is exactly what was generated (a cancelled request carries the text so far).
  const text = outcome.ok && outcome.result ? outcome.result.text : streamed.text;
  const cancelled = outcome.ok ? outcome.cancelled : outcome.reason === "cancelled";
  // The daemon's reason names the file by its path; the message names it once, by its name.
  const failed = !outcome.ok && !cancelled ? outcome.reason.replaceAll(`${job.image}: `, "").replaceAll(job.image, name) : undefined;
  if (!draft && (failed || !text.trim())) {
    // Nothing reached the report (or it was never opened: the image failed to decode).
    const r: ImageOutcome = failed ? { kind: "failed", reason: failed, reportWritten: false } : { kind: "cancelled", words: 0, reportWritten: false };
    void vscode.window[failed ? "showErrorMessage" : "showInformationMessage"](draftMessage(job.what, name, r));
    return r;
  }
  const d = await open();
  // An empty Examination gets what the image's own header says it is (not a draft: a fact).
  const exam = outcome.ok && outcome.result ? examinationText(outcome.result.image) : undefined;
  if (exam) void d.fillEmpty("Examination", exam);
  const state = cancelled || failed ? "interrupted" : "complete";
  const done = await d.finish(text, state, failed ?? (cancelled ? "cancelled" : undefined));
  const words = text.split(/\s+/).filter(Boolean).length;
  const r: ImageOutcome = failed ? { kind: "failed", reason: failed, reportWritten: done.written.length > 0 } : cancelled ? { kind: "cancelled", words, reportWritten: done.written.length > 0 } : { kind: "done" };
  if (r.kind !== "done") void vscode.window[failed ? "showErrorMessage" : "showInformationMessage"](draftMessage(job.what, name, r, done.written));
  return r;
}

export function registerSummarize(ctx: Ctx): vscode.Disposable {
  return vscode.commands.registerCommand("xraygpt.summarize", async (uri?: unknown, uris?: unknown) => {
    const images = selectedImages(uri, uris, ctx.activeImage);
    if (images.length === 0) {
      void vscode.window.showWarningMessage("XrayGPT: select a PNG, JPEG or DICOM image to summarize.");
      return;
    }
    const run = ctx.track();
    const outcomes: ImageOutcome[] = [];
    let cancelled = false;
    try {
      for (const [i, image] of images.entries()) {
        if (run.token.isCancellationRequested) break;
        const place = images.length > 1 ? ` (${i + 1}/${images.length})` : "";
        run.say(`summarizing ${basename(image)}${place}`);
        try {
          outcomes.push(await draftIntoReport(ctx, { image, sections: ["Findings", "Impression"], shape: summaryShape, what: "summary" }, run.token, (s) => run.say(`${s}${place}`)));
        } catch (e) {
          const reason = e instanceof Error ? e.message : String(e);
          outcomes.push({ kind: "failed", reason, reportWritten: false });
          void vscode.window.showErrorMessage(`XrayGPT: cannot summarize ${basename(image)}: ${reason}`);
        }
      }
      cancelled = run.token.isCancellationRequested;
    } finally {
      run.done();
    }
    if (images.length > 1 && cancelled) void vscode.window.showInformationMessage(batchSummary(outcomes, images.length));
  });
}

/**
 * `xraygpt.draftSection` (run by the daemon's code actions): "Draft findings from image" streams a
 * findings description into the Findings section; "Draft impression from findings" streams an
 * impression of the Findings text (XrayGPT's text-to-summary skill) into Impression.
 */
import * as vscode from "vscode";
import { SummarizeRequest } from "@xraygpt/protocol";
import { parseReport, type SectionName } from "xraygpt/daemon/report/report-format";
import { resolveImageField } from "xraygpt/daemon/report/report-paths";
import { sectionText } from "xraygpt/daemon/report/report-actions";
import type { Ctx } from "../ctx.js";
import { runJob } from "../generation.js";
import { DraftStream } from "../report/report-writer.js";

export const FINDINGS_PROMPT = "Describe the findings of this chest radiograph.";
export function impressionPrompt(findings: string): string {
  return `Write a one-sentence impression for a chest radiograph report with these findings: ${findings.replace(/\s+/g, " ").trim()}`;
}

export function registerDraftSection(ctx: Ctx): vscode.Disposable {
  return vscode.commands.registerCommand("xraygpt.draftSection", async (reportUri: string, section: SectionName) => {
    if (typeof reportUri !== "string" || (section !== "Findings" && section !== "Impression")) return;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(reportUri));
    const text = doc.getText();
    const field = parseReport(text).frontMatter?.fields.get("image")?.value;
    if (!field) {
      void vscode.window.showErrorMessage("XrayGPT: this report names no image (front matter `image:`).");
      return;
    }
    const image = resolveImageField(doc.uri.fsPath, field);
    const prompt = section === "Findings" ? FINDINGS_PROMPT : impressionPrompt(sectionText(text, "Findings"));
    const ref = await ctx.modelRef();
    const model = `${ref.id}@${ref.version}`;
    const run = ctx.track();
    let stream: DraftStream | undefined;
    try {
      const client = ctx.daemon.get();
      const outcome = await runJob(
        ctx.daemon,
        ctx.jobs,
        async (jobId, tok) => {
          stream = await DraftStream.begin(doc, { jobId, model, time: new Date().toISOString(), title: section }, section);
          return client.sendRequest(SummarizeRequest, { jobId, image, prompt, ...(ctx.config.model ? { model: ctx.config.model } : {}), generation: { maxTokens: ctx.config.maxTokens } }, tok);
        },
        { onToken: (t) => stream?.push(t) },
        run.token,
      );
      if (stream) await stream.finish(outcome.ok && !outcome.cancelled ? "complete" : "interrupted", outcome.ok ? "cancelled" : outcome.reason);
      if (!outcome.ok && outcome.reason !== "cancelled") void vscode.window.showErrorMessage(`XrayGPT: drafting interrupted: ${outcome.reason}`);
    } catch (e) {
      void vscode.window.showErrorMessage(`XrayGPT: cannot draft ${section.toLowerCase()}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      run.done();
    }
  });
}

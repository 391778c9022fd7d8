/**
 * `xraygpt.draftSection` (run by the daemon's code actions): "Draft findings from image" streams a
 * findings description into the Findings section (in place when it is empty, else as a proposal); "Draft impression from findings" streams an
 * impression of the Findings text (XrayGPT's text-to-summary skill) into Impression.
 */
import * as vscode from "vscode";
import { parseReport, type SectionName } from "xraygpt/daemon/report/report-format";
import { resolveImageField } from "xraygpt/daemon/report/report-paths";
import { sectionText } from "xraygpt/daemon/report/report-actions";
import type { Ctx } from "../ctx.js";
import { draftIntoReport } from "./summarize.js";
import { splitSummary } from "../report/report-document.js";

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
    const run = ctx.track();
    try {
      // The model's answer goes into the one section, without "Findings:" / "Impression:" headings (the
      // impression part of a "Findings: … Impression: …" answer when drafting the impression).
      const shape = (t: string) => {
        const s = splitSummary(t);
        return { [section]: section === "Findings" ? s.findings : s.impression || s.findings };
      };
      await draftIntoReport(ctx, { image, doc, sections: [section], shape, what: section.toLowerCase(), prompt }, run.token, run.say);
    } catch (e) {
      void vscode.window.showErrorMessage(`XrayGPT: cannot draft ${section.toLowerCase()}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      run.done();
    }
  });
}

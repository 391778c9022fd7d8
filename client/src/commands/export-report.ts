/**
 * "XrayGPT: Export Reviewed Report…": a reviewed report as Markdown, plain text, or a DICOM Basic
 * Text SR (written by the daemon, `xraygpt/exportSr`) in the source image's study — by default with
 * the patient module empty; an explicit choice copies the source's patient module and says so.
 * Files go beside the report under a free name (nothing is replaced); PNG/JPEG sources get no SR.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename } from "node:path";
import * as vscode from "vscode";
import { ExportSrRequest } from "@xraygpt/protocol";
import { parseReport } from "xraygpt/daemon/report/report-format";
import { isReportPath, resolveImageField } from "xraygpt/daemon/report/report-paths";
import type { Ctx } from "../ctx.js";
import { exportMarkdown, exportPlainText, freeName, REPORT_SECTIONS, sectionBody } from "../report/report-document.js";
import { requestErrorMessage } from "../request-error.js";

export type ExportFormat = "markdown" | "text" | "sr" | "sr-patient";

const CHOICES: (vscode.QuickPickItem & { format: ExportFormat })[] = [
  { label: "DICOM SR (Basic Text)", description: "patient module left empty", detail: "In the source image's study, referencing its series and instance. For DICOM sources.", format: "sr" },
  { label: "DICOM SR (Basic Text) with the patient module", description: "copies the source's patient name, ID, birth date, sex", detail: "For import into the same archive as the source image.", format: "sr-patient" },
  { label: "Markdown", description: ".md without front matter", format: "markdown" },
  { label: "Plain text", description: ".txt, FINDINGS: / IMPRESSION: headings", format: "text" },
];

export function registerExportReport(ctx: Ctx): vscode.Disposable {
  return vscode.commands.registerCommand("xraygpt.exportReport", async (arg?: unknown, format?: ExportFormat) => {
    const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (!uri || uri.scheme !== "file" || !isReportPath(uri.fsPath)) {
      void vscode.window.showWarningMessage("XrayGPT: open a report document (*.report.md) to export it.");
      return;
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    if (doc.isDirty) await doc.save();
    const text = doc.getText();
    const fields = parseReport(text).frontMatter?.fields;
    if (fields?.get("status")?.value !== "reviewed") {
      const act = await vscode.window.showWarningMessage(`XrayGPT: ${basename(uri.fsPath)} is not reviewed yet; mark it reviewed, then export it.`, "Mark Reviewed");
      if (act) await vscode.commands.executeCommand("xraygpt.markReviewed", uri);
      return;
    }
    const image = fields.get("image")?.value ? resolveImageField(uri.fsPath, fields.get("image")!.value) : undefined;
    const isDicom = !!image && /\.(dcm|dicom)$/i.test(image);
    const choice = format ?? (await vscode.window.showQuickPick(isDicom ? CHOICES : CHOICES.filter((c) => !c.format.startsWith("sr")), { title: `Export ${basename(uri.fsPath)}`, placeHolder: isDicom ? "Format" : "Format (the image is not DICOM: no SR)" }))?.format;
    if (!choice) return;
    const base = uri.fsPath.replace(/\.md$/i, "");
    try {
      if (choice === "markdown" || choice === "text") {
        const out = freeName(`${base}.export`, choice === "markdown" ? ".md" : ".txt", existsSync);
        await writeFile(out, choice === "markdown" ? exportMarkdown(text) : exportPlainText(text), { flag: "wx" });
        void vscode.window.showInformationMessage(`XrayGPT: exported ${basename(uri.fsPath)} to ${basename(out)}.`);
        return;
      }
      if (!image) throw new Error("the report names no image (front matter `image:`)");
      const out = freeName(`${base}.sr`, ".dcm", existsSync);
      const sections = REPORT_SECTIONS.map((name) => ({ name, text: sectionBody(text, name)?.text ?? "" }));
      const r = await ctx.daemon.get().sendRequest(ExportSrRequest, { image, out, sections, includePatientModule: choice === "sr-patient" });
      ctx.output.appendLine(`export: ${basename(uri.fsPath)} → ${r.out} (SR ${r.sopInstanceUid} in study ${r.studyInstanceUid}, referencing ${r.referencedSopInstanceUid})`);
      void vscode.window.showInformationMessage(
        `XrayGPT: exported ${basename(uri.fsPath)} as a DICOM SR, ${basename(r.out)}, in the study of ${basename(image)}. ` +
          (r.patientModuleCopied ? "It carries the source's patient module (patient name, ID, birth date, sex) and study identifiers, as chosen." : "Its patient module is empty."),
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`XrayGPT: cannot export ${basename(uri.fsPath)}: ${requestErrorMessage(e)}`);
    }
  });
}

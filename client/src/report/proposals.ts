/**
 * A new draft for a section that already has text is a proposal, never an edit: it opens as a
 * diff (the report now ↔ the report with the new draft in that section) with Accept / Reject in
 * the diff's title bar and in a notification. Accepting replaces that section's text (the user's
 * action) and records the draft's provenance; rejecting drops it.
 */
import { basename } from "node:path";
import * as vscode from "vscode";
import { applyEdit } from "xraygpt/daemon/report/report-format";
import { setSectionBodyEdit, type DraftRecord } from "./report-document.js";
import type { ReportDecorations } from "./decorations.js";
import { applyOffsetEdit } from "./section-draft.js";

export const PROPOSAL_SCHEME = "xraygpt-proposal";

interface Proposal {
  report: vscode.Uri;
  record: DraftRecord;
}

export class Proposals implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly pending = new Map<string, Proposal>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly subs: vscode.Disposable[];

  constructor(private readonly decorations: ReportDecorations) {
    this.subs = [
      this.changed,
      vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, this),
      vscode.commands.registerCommand("xraygpt.acceptDraft", (uri?: vscode.Uri) => this.decide(uri, true)),
      vscode.commands.registerCommand("xraygpt.rejectDraft", (uri?: vscode.Uri) => this.decide(uri, false)),
    ];
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }

  private uriFor(report: vscode.Uri, section: string): vscode.Uri {
    return vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: report.path, query: `section=${section}` });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const p = this.pending.get(uri.toString());
    if (!p) return "This proposed draft was accepted or rejected.\n";
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === p.report.toString());
    const text = doc?.getText() ?? "";
    return applyEdit(text, setSectionBodyEdit(text, p.record.section, p.record.text));
  }

  /** Offers `record` for its section of `doc`: a diff plus a notification with Accept / Reject. */
  offer(doc: vscode.TextDocument, record: DraftRecord): void {
    const uri = this.uriFor(doc.uri, record.section);
    this.pending.set(uri.toString(), { report: doc.uri, record });
    this.changed.fire(uri);
    const name = basename(doc.uri.fsPath);
    void vscode.commands.executeCommand("vscode.diff", doc.uri, uri, `${name}: ${record.section} now ↔ new draft`, { preview: true, preserveFocus: true });
    void vscode.window
      .showInformationMessage(`XrayGPT: ${name} already has ${record.section}; the new draft is shown as a diff. Replace the section's text with it?`, "Accept", "Reject")
      .then((choice) => choice && this.decide(uri, choice === "Accept"));
  }

  private async decide(uri: vscode.Uri | undefined, accept: boolean): Promise<void> {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    const key = target?.toString() ?? "";
    const p = this.pending.get(key);
    if (!p) {
      if (uri === undefined) void vscode.window.showWarningMessage("XrayGPT: no proposed draft is open.");
      return;
    }
    this.pending.delete(key);
    this.changed.fire(target!);
    // The diff has done its job: close it.
    const diffs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.toString() === key);
    if (diffs.length) await vscode.window.tabGroups.close(diffs, true);
    if (!accept) return;
    const doc = await vscode.workspace.openTextDocument(p.report);
    if (!(await applyOffsetEdit(doc, setSectionBodyEdit(doc.getText(), p.record.section, p.record.text)))) {
      void vscode.window.showErrorMessage(`XrayGPT: could not edit ${basename(doc.uri.fsPath)}.`);
      return;
    }
    await doc.save();
    await this.decorations.commit(doc, p.record.jobId, [p.record]);
  }
}

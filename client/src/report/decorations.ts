/**
 * Drafted text in report editors: a gutter mark and a hover (model, version, time, job, state,
 * what the user changed since) over each drafted section, and provisional text (the greedy
 * candidate while consensus decoding runs) in italics with its "k of N candidates" progress.
 * The provenance lives in the report's sidecar (`*.report.provenance.json`), read and written here.
 */
import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import * as vscode from "vscode";
import { isReportPath } from "xraygpt/daemon/report/report-paths";
import { applyOffsetEdit } from "./section-draft.js";
import { DRAFTED_FIELD, draftedValue, setFieldEdit, draftedRanges, draftHover, emptyProvenance, parseProvenance, provenancePathFor, withDraft, type DraftRecord, type Provenance } from "./report-document.js";

interface Live {
  records: DraftRecord[];
  note: string | undefined;
}

export class ReportDecorations implements vscode.Disposable {
  private readonly saved = new Map<string, Provenance>();
  private readonly live = new Map<string, Map<string, Live>>();
  private readonly drafted: vscode.TextEditorDecorationType;
  private readonly interrupted: vscode.TextEditorDecorationType;
  private readonly provisional: vscode.TextEditorDecorationType;
  private readonly subs: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(extensionPath: string) {
    const icon = (name: string) => vscode.Uri.file(`${extensionPath}/resources/${name}.svg`);
    const ruler = { overviewRulerLane: vscode.OverviewRulerLane.Left } as const;
    this.drafted = vscode.window.createTextEditorDecorationType({ gutterIconPath: icon("draft-gutter"), gutterIconSize: "contain", overviewRulerColor: new vscode.ThemeColor("editorInfo.foreground"), ...ruler });
    this.interrupted = vscode.window.createTextEditorDecorationType({ gutterIconPath: icon("draft-interrupted"), gutterIconSize: "contain", overviewRulerColor: new vscode.ThemeColor("editorWarning.foreground"), ...ruler });
    this.provisional = vscode.window.createTextEditorDecorationType({
      fontStyle: "italic",
      opacity: "0.7",
      gutterIconPath: icon("draft-provisional"),
      gutterIconSize: "contain",
      after: { color: new vscode.ThemeColor("descriptionForeground"), fontStyle: "italic", margin: "0 0 0 1em" },
    });
    this.subs.push(
      this.drafted,
      this.interrupted,
      this.provisional,
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshSoon()),
      vscode.workspace.onDidChangeTextDocument((e) => isReportPath(e.document.uri.fsPath) && this.refreshSoon()),
    );
    this.refreshSoon();
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
  }

  /** The report's provenance (its sidecar; empty when it has none or it is unreadable). */
  async provenance(reportPath: string): Promise<Provenance> {
    const known = this.saved.get(reportPath);
    if (known) return known;
    const p = await readFile(provenancePathFor(reportPath), "utf8").then(parseProvenance, () => undefined);
    const prov = p ?? emptyProvenance(basename(reportPath));
    this.saved.set(reportPath, prov);
    return prov;
  }

  /** Records new provenance and writes the sidecar. */
  async save(reportPath: string, p: Provenance): Promise<void> {
    this.saved.set(reportPath, p);
    await writeFile(provenancePathFor(reportPath), JSON.stringify(p, null, 2) + "\n");
    this.refreshSoon();
  }

  /** A job's drafted sections while it streams (not yet in the sidecar). */
  setLive(doc: vscode.TextDocument, jobId: string, records: DraftRecord[], note: string | undefined): void {
    const path = doc.uri.fsPath;
    const m = this.live.get(path) ?? new Map<string, Live>();
    m.set(jobId, { records, note });
    this.live.set(path, m);
    this.refreshSoon(0);
  }

  /** A job's drafted sections are final: into the sidecar, no longer live. */
  async commit(doc: vscode.TextDocument, jobId: string, records: DraftRecord[]): Promise<void> {
    const path = doc.uri.fsPath;
    this.live.get(path)?.delete(jobId);
    let p = await this.provenance(path);
    for (const r of records) p = withDraft(p, r);
    if (records.length > 0) {
      const e = setFieldEdit(doc.getText(), DRAFTED_FIELD, draftedValue(p));
      if (e) await applyOffsetEdit(doc, e);
    }
    if (doc.isDirty && !(await doc.save())) void vscode.window.showWarningMessage(`XrayGPT: ${basename(path)} could not be saved; its draft is in the editor, unsaved.`);
    // The sidecar last: once it says a draft is complete, the report holding it is saved.
    if (records.length > 0) await this.save(path, p);
    else this.refreshSoon();
  }

  private refreshSoon(ms = 100): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), ms);
  }

  private async refresh(): Promise<void> {
    for (const editor of vscode.window.visibleTextEditors) {
      const doc = editor.document;
      if (doc.uri.scheme !== "file" || !isReportPath(doc.uri.fsPath)) continue;
      let p = await this.provenance(doc.uri.fsPath);
      const live = [...(this.live.get(doc.uri.fsPath)?.values() ?? [])];
      for (const l of live) for (const r of l.records) p = withDraft(p, r);
      const note = live.find((l) => l.note)?.note;
      const text = doc.getText();
      const drafted: vscode.DecorationOptions[] = [];
      const interrupted: vscode.DecorationOptions[] = [];
      const provisional: vscode.DecorationOptions[] = [];
      for (const r of draftedRanges(text, p)) {
        const range = new vscode.Range(doc.positionAt(r.start), doc.positionAt(r.end));
        const hoverMessage = new vscode.MarkdownString(draftHover(r));
        if (r.record.state === "provisional") {
          provisional.push({ range, hoverMessage, renderOptions: { after: { contentText: `provisional${note ? ` — ${note}` : ""}` } } });
        } else (r.record.state === "interrupted" ? interrupted : drafted).push({ range, hoverMessage });
      }
      editor.setDecorations(this.drafted, drafted);
      editor.setDecorations(this.interrupted, interrupted);
      editor.setDecorations(this.provisional, provisional);
    }
  }
}

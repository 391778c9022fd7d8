/**
 * Streams model text into report documents with WorkspaceEdits. Edits of one document are
 * serialized, tokens are batched (one edit per ~50 ms), and every edit is computed from the
 * document's current text, so the user can keep typing elsewhere in the report while it streams.
 * A report that exists is never overwritten; a new one is created with its front matter.
 * `DraftStream` (old-style draft blocks) remains for the chat's "insert answer"; summaries and
 * section drafts fill sections in place (section-draft.ts).
 */
import { basename, dirname } from "node:path";
import { mkdir, stat, writeFile } from "node:fs/promises";
import * as vscode from "vscode";
import {
  appendDraftEdit,
  finishDraftEdit,
  insertDraftInSectionEdit,
  streamInsertEdit,
  type DraftMeta,
  type OffsetEdit,
  type SectionName,
} from "xraygpt/daemon/report/report-format";
import { imageFieldFor, reportPathFor } from "xraygpt/daemon/report/report-paths";
import type { ModelRef } from "@xraygpt/protocol";
import { newRadiologyReport } from "./report-document.js";

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function applyOffsetEdit(doc: vscode.TextDocument, make: (text: string) => OffsetEdit | undefined): Promise<boolean> {
  const e = make(doc.getText());
  if (!e) return false;
  const we = new vscode.WorkspaceEdit();
  we.replace(doc.uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.text);
  return vscode.workspace.applyEdit(we);
}

/** The column of the tab group showing `image` (its viewer), if any. */
function columnOf(image: string): vscode.ViewColumn | undefined {
  for (const g of vscode.window.tabGroups.all) {
    for (const t of g.tabs) {
      const input = t.input;
      const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
      if (uri?.fsPath === image) return g.viewColumn;
    }
  }
  return undefined;
}

/** Shows the image (its viewer) in the active group unless a tab already shows it; its column. */
export async function showImage(image: string): Promise<vscode.ViewColumn | undefined> {
  const column = columnOf(image);
  if (column !== undefined) return column;
  await vscode.commands.executeCommand("vscode.open", vscode.Uri.file(image), { preview: true, preserveFocus: true, viewColumn: vscode.window.tabGroups.activeTabGroup.viewColumn });
  return columnOf(image);
}

/**
 * Opens the image's report (creating it when missing, in the radiology sections), beside the
 * image's own viewer — opened first when no tab shows it — never beside whatever else is active.
 */
export async function openReport(image: string, reportsFolder: string | undefined, model: ModelRef | { id: string; version: string }, opts: { showImage?: boolean } = {}): Promise<vscode.TextDocument> {
  const root = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(image))?.uri.fsPath;
  const path = reportPathFor(image, reportsFolder, root);
  const uri = vscode.Uri.file(path);
  if (!(await exists(path))) {
    const text = newRadiologyReport({ image: imageFieldFor(path, image), model: model.id, modelVersion: model.version, time: new Date().toISOString() }, basename(image));
    // Written before the editor opens it (`wx`: a report made meanwhile is kept as it is).
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text, { flag: "wx" }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "EEXIST") throw e;
    });
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  const column = opts.showImage === false ? columnOf(image) : await showImage(image);
  const open = vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === path);
  await vscode.window.showTextDocument(doc, { viewColumn: open?.viewColumn ?? (column !== undefined ? column + 1 : vscode.ViewColumn.Beside), preserveFocus: true, preview: false });
  return doc;
}

/** A draft being streamed into a report. */
export class DraftStream {
  private queue = "";
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lost = false;

  private constructor(
    readonly doc: vscode.TextDocument,
    readonly jobId: string,
  ) {}

  /** Starts a draft block: appended at the end (a dated section), or in a section. */
  static async begin(doc: vscode.TextDocument, meta: DraftMeta, where: "append" | SectionName): Promise<DraftStream> {
    const ok = await applyOffsetEdit(doc, (t) => (where === "append" ? appendDraftEdit(t, meta) : insertDraftInSectionEdit(t, where, meta)));
    if (!ok) throw new Error(`could not edit ${doc.uri.fsPath}`);
    return new DraftStream(doc, meta.jobId);
  }

  push(text: string): void {
    this.queue += text;
    this.timer ??= setTimeout(() => this.flush(), 50);
  }

  private flush(): Promise<unknown> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const text = this.queue;
    this.queue = "";
    if (!text) return this.chain;
    this.chain = this.chain.then(async () => {
      const ok = await applyOffsetEdit(this.doc, (t) => streamInsertEdit(t, this.jobId, text));
      if (!ok) this.lost = true;
    });
    return this.chain;
  }

  /** Ends the block (complete or interrupted with a reason) and saves the report. */
  async finish(state: "complete" | "interrupted", reason?: string): Promise<void> {
    await this.flush();
    await this.chain;
    await applyOffsetEdit(this.doc, (t) => finishDraftEdit(t, this.jobId, state, reason));
    await this.doc.save();
    if (this.lost) void vscode.window.showWarningMessage(`XrayGPT: the draft's end marker was removed from ${basename(this.doc.uri.fsPath)}; part of the text was not inserted.`);
  }
}

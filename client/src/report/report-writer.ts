/**
 * Opens an image's report beside its viewer: a report that exists is never overwritten; a new one
 * is created with its front matter and radiology sections. Summaries, section drafts and chat
 * answers are then written into its sections in place (section-draft.ts).
 */
import { basename, dirname } from "node:path";
import { mkdir, stat, writeFile } from "node:fs/promises";
import * as vscode from "vscode";
import { imageFieldFor, reportPathFor } from "xraygpt/daemon/report/report-paths";
import type { ModelRef } from "@xraygpt/protocol";
import { newRadiologyReport } from "./report-document.js";

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
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

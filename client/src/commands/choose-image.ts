/**
 * "Choose image…", the quick fix of a report whose image link is missing or broken (the daemon's
 * CHOOSE_IMAGE_COMMAND): pick the radiograph, and the report's `image:` points at it, relative to
 * the report's folder. Only that value changes, as one undoable edit.
 */
import { dirname } from "node:path";
import * as vscode from "vscode";
import { imageFieldFor, isReportPath } from "xraygpt/daemon/report/report-paths";
import { CHOOSE_IMAGE_COMMAND, setImageEdit } from "xraygpt/daemon/report/report-image";

export function registerChooseImage(): vscode.Disposable {
  return vscode.commands.registerCommand(CHOOSE_IMAGE_COMMAND, async (arg?: unknown) => {
    const uri = typeof arg === "string" ? vscode.Uri.parse(arg) : arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (!uri || uri.scheme !== "file" || !isReportPath(uri.fsPath)) {
      void vscode.window.showWarningMessage("XrayGPT: open a report document (*.report.md) to choose its image.");
      return;
    }
    const picked = await vscode.window.showOpenDialog({
      title: "XrayGPT: the radiograph this report describes",
      canSelectFiles: true,
      canSelectFolders: false,
      canSelectMany: false,
      openLabel: "Choose image",
      defaultUri: vscode.Uri.file(dirname(uri.fsPath)),
      filters: { Radiographs: ["dcm", "dicom", "png", "jpg", "jpeg"], "All files": ["*"] },
    });
    if (!picked?.[0]) return;
    const doc = await vscode.workspace.openTextDocument(uri);
    const e = setImageEdit(doc.getText(), imageFieldFor(uri.fsPath, picked[0].fsPath));
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.text);
    await vscode.workspace.applyEdit(edit);
  });
}

/**
 * "XrayGPT: Annotate Folder…": runs the CLI's batch annotator (`xraygpt annotate FOLDER`) as a
 * child process with the same model settings, its output in the XrayGPT channel; cancellable.
 */
import { spawn } from "node:child_process";
import * as vscode from "vscode";
import { engineArgs, findCli } from "../bootstrap.js";
import type { Ctx } from "../ctx.js";

export function registerAnnotateFolder(ctx: Ctx): vscode.Disposable {
  return vscode.commands.registerCommand("xraygpt.annotateFolder", async (uri?: vscode.Uri) => {
    const folder =
      uri instanceof vscode.Uri
        ? uri
        : (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: "Annotate", title: "XrayGPT: folder of radiographs to annotate" }))?.[0];
    if (!folder) return;
    const cli = findCli(ctx.config, ctx.extension.extensionPath);
    const args = [...cli.args, "annotate", folder.fsPath, ...engineArgs(ctx.config)];
    ctx.output.show(true);
    ctx.output.appendLine(`annotate: ${cli.command} ${args.join(" ")}`);
    const code = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `XrayGPT: annotating ${vscode.workspace.asRelativePath(folder)}`, cancellable: true },
      (_p, token) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(cli.command, args, { stdio: ["ignore", "pipe", "pipe"] });
          child.stdout.on("data", (b: Buffer) => ctx.output.append(b.toString()));
          child.stderr.on("data", (b: Buffer) => ctx.output.append(b.toString()));
          child.on("error", (e) => {
            ctx.output.appendLine(`annotate: ${e.message}`);
            resolve(-1);
          });
          child.on("close", (c) => resolve(c));
          token.onCancellationRequested(() => child.kill("SIGTERM"));
        }),
    );
    if (code === 0) void vscode.window.showInformationMessage("XrayGPT: annotation finished (see the XrayGPT output).");
    else void vscode.window.showErrorMessage(`XrayGPT: annotation ${code === null ? "stopped" : `failed (exit ${code})`}; see the XrayGPT output.`);
  });
}

/** "XrayGPT: Select Model" (also the status bar's click): pick from the daemon's models. */
import * as vscode from "vscode";
import { LoadModelRequest, ModelsRequest } from "@xraygpt/protocol";
import type { Ctx } from "../ctx.js";

export function registerModelCommands(ctx: Ctx): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand("xraygpt.selectModel", async () => {
      let models;
      try {
        models = (await ctx.daemon.get().sendRequest(ModelsRequest, {})).models;
      } catch (e) {
        const a = await vscode.window.showErrorMessage(`XrayGPT: ${e instanceof Error ? e.message : String(e)}`, "Restart Daemon", "Show Output");
        if (a === "Restart Daemon") await ctx.daemon.restart();
        if (a === "Show Output") ctx.output.show();
        return;
      }
      const current = ctx.config.model ?? ctx.daemon.status?.defaultModel;
      const pick = await vscode.window.showQuickPick(
        models.map((m) => ({
          label: `${m.id === current ? "$(check) " : ""}${m.name}`,
          description: `${m.id} ${m.version}${m.loaded ? " · loaded" : ""}${m.default ? " · default" : ""}`,
          detail: m.available ? m.description : `$(warning) unavailable: ${m.problem ?? "unknown problem"}`,
          id: m.id,
          available: m.available,
        })),
        { title: "XrayGPT: model", placeHolder: "Choose the model for summaries and chat" },
      );
      if (!pick) return;
      if (!pick.available) {
        void vscode.window.showErrorMessage(`XrayGPT: model ${pick.id} is unavailable.`);
        return;
      }
      await vscode.workspace.getConfiguration("xraygpt").update("model", pick.id, vscode.ConfigurationTarget.Workspace);
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `XrayGPT: loading ${pick.id}` }, () =>
        ctx.daemon.get().sendRequest(LoadModelRequest, { model: pick.id }).then(
          () => undefined,
          (e: unknown) => void vscode.window.showErrorMessage(`XrayGPT: cannot load ${pick.id}: ${e instanceof Error ? e.message : String(e)}`),
        ),
      );
    }),
    vscode.commands.registerCommand("xraygpt.restartDaemon", () => ctx.daemon.restart()),
    vscode.commands.registerCommand("xraygpt.showOutput", () => ctx.output.show()),
    vscode.commands.registerCommand("xraygpt.cancel", () => ctx.cancelAll()),
  ];
}

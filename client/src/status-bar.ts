/** Two status bar items: the daemon (click → models) and running generations (click → cancel). */
import * as vscode from "vscode";
import type { Ctx } from "./ctx.js";
import { statusText } from "./status-text.js";

export function registerStatusBar(ctx: Ctx): void {
  const daemon = vscode.window.createStatusBarItem("xraygpt.daemon", vscode.StatusBarAlignment.Left, 10);
  daemon.name = "XrayGPT daemon";
  daemon.command = "xraygpt.selectModel";
  const jobs = vscode.window.createStatusBarItem("xraygpt.jobs", vscode.StatusBarAlignment.Left, 9);
  jobs.name = "XrayGPT generation";
  jobs.command = "xraygpt.cancel";
  const render = () => {
    const s = statusText(ctx.daemon.state, ctx.daemon.status, ctx.config.model);
    daemon.text = s.text;
    daemon.tooltip = s.tooltip;
    daemon.backgroundColor = s.error ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
    daemon.show();
    const n = ctx.running.size;
    const said = [...ctx.activity.values()];
    jobs.text = `$(sync~spin) XrayGPT: ${said.at(-1) ?? "generating"}${n > 1 ? ` (+${n - 1} more)` : ""} $(close)`;
    jobs.tooltip = `${said.length ? `${said.join("\n")}\n` : ""}Click to cancel`;
    if (n > 0) jobs.show();
    else jobs.hide();
  };
  render();
  // The model shown follows the setting (Ctx has read the new settings by the time this runs).
  const settings = vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration("xraygpt") && render());
  ctx.subscriptions.push(daemon, jobs, settings, ctx.daemon.onDidChange(render), ctx.onRunningChange(render));
}

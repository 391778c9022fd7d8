/** The XrayGPT extension's entry point: wires the parts together, nothing else. */
import type * as vscode from "vscode";
import { Ctx } from "./ctx.js";
import { registerStatusBar } from "./status-bar.js";
import { registerSummarize } from "./commands/summarize.js";
import { registerDraftSection } from "./commands/draft-section.js";
import { registerModelCommands } from "./commands/models.js";
import { registerAnnotateFolder } from "./commands/annotate-folder.js";
import { registerEvaluate } from "./commands/evaluate.js";
import { registerMarkReviewed } from "./commands/mark-reviewed.js";
import { registerExportReport } from "./commands/export-report.js";
import { registerViewer } from "./webview/viewer-provider.js";
import { registerChatView } from "./webview/chat-view.js";
import { registerChooseImage } from "./commands/choose-image.js";

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  ctx = new Ctx(context);
  context.subscriptions.push(ctx);
  registerStatusBar(ctx);
  ctx.subscriptions.push(
    registerSummarize(ctx),
    registerDraftSection(ctx),
    registerAnnotateFolder(ctx),
    registerEvaluate(ctx),
    ...registerMarkReviewed(ctx),
    registerExportReport(ctx),
    ...registerModelCommands(ctx),
    ...registerViewer(ctx),
    ...registerChatView(ctx),
    registerChooseImage(),
  );
  await ctx.daemon.start();
}

export function deactivate(): Promise<void> | undefined {
  const c = ctx?.daemon.client;
  ctx = undefined;
  return c?.stop().catch(() => undefined);
}

/**
 * The chat view (side bar webview): a conversation about the active radiograph, streamed answers,
 * stop, and "insert into report". History per image in workspace storage.
 */
import { basename } from "node:path";
import * as vscode from "vscode";
import { ChatRequest } from "@xraygpt/protocol";
import { parseReport } from "xraygpt/daemon/report/report-format";
import { isReportPath, resolveImageField } from "xraygpt/daemon/report/report-paths";
import { ChatHistory } from "../chat-history.js";
import { IMAGE_RE } from "../commands/summarize.js";
import type { Ctx } from "../ctx.js";
import { runJob } from "../generation.js";
import { openReport } from "../report/report-writer.js";
import { SectionDraft } from "../report/section-draft.js";
import { sectionBody } from "../report/report-document.js";
import { chatHtml } from "./html.js";
import { parseChatMessage } from "./messages.js";

export const CHAT_VIEW = "xraygpt.chat";

/** The image an editor is about: an image file itself, or the image a report names. */
export function imageOfDocument(doc: vscode.TextDocument): string | undefined {
  if (doc.uri.scheme !== "file") return undefined;
  if (IMAGE_RE.test(doc.uri.fsPath)) return doc.uri.fsPath;
  if (!isReportPath(doc.uri.fsPath)) return undefined;
  const field = parseReport(doc.getText()).frontMatter?.fields.get("image")?.value;
  return field ? resolveImageField(doc.uri.fsPath, field) : undefined;
}

class ChatView implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private readonly history: ChatHistory;
  private current: { cancel(): void } | undefined;

  constructor(private readonly ctx: Ctx) {
    this.history = new ChatHistory(ctx.extension.workspaceState);
    ctx.subscriptions.push(ctx.onActiveImageChange(() => this.sendState()));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.ctx.extension.extensionUri, "dist", "media");
    view.webview.options = { enableScripts: true, localResourceRoots: [media] };
    view.webview.html = chatHtml({ cspSource: view.webview.cspSource, mediaUri: view.webview.asWebviewUri(media).toString() });
    view.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw));
  }

  private post(m: unknown): void {
    void this.view?.webview.postMessage(m);
  }

  private sendState(): void {
    const image = this.ctx.activeImage;
    const entries = image ? this.history.get(image).entries : [];
    this.post({ type: "state", ...(image ? { image: basename(image) } : {}), history: entries });
  }

  private async onMessage(raw: unknown): Promise<void> {
    const parsed = parseChatMessage(raw);
    if (!parsed.ok) {
      this.ctx.output.appendLine(`chat: rejected a message: ${parsed.reason}`);
      return;
    }
    const m = parsed.message;
    const image = this.ctx.activeImage;
    if (m.type === "ready") return this.sendState();
    if (m.type === "stop") return this.current?.cancel();
    if (!image) return;
    if (m.type === "clear") {
      this.current?.cancel();
      await this.history.clear(image);
      return this.sendState();
    }
    if (m.type === "insert") return this.insert(image, m.index);
    if (!this.current) await this.ask(image, m.text);
  }

  /**
   * The answer goes into the report's Findings: in place when the section is empty, else offered
   * as a diff that adds it after the section's text (nothing the user wrote changes unasked).
   */
  private async insert(image: string, index: number): Promise<void> {
    const entry = this.history.get(image).entries[index];
    if (!entry || entry.role !== "assistant") return;
    const ref = await this.ctx.modelRef();
    const doc = await openReport(image, this.ctx.config.reportsFolder, ref);
    const existing = sectionBody(doc.getText(), "Findings")?.text ?? "";
    const info = { jobId: `chat-${Date.now()}`, model: ref.id, modelVersion: ref.version, time: new Date().toISOString() };
    const draft = new SectionDraft({ doc, decorations: this.ctx.decorations, proposals: this.ctx.proposals }, info, ["Findings"], (t) => ({ Findings: existing ? `${existing}\n\n${t.trim()}` : t }));
    await draft.finish(entry.text, entry.interrupted ? "interrupted" : "complete", entry.interrupted ? "the answer was interrupted" : undefined);
  }

  private async ask(image: string, text: string): Promise<void> {
    await this.history.append(image, { role: "user", text });
    this.post({ type: "question", text });
    this.post({ type: "answerStart" });
    const run = this.ctx.track();
    const cts = new vscode.CancellationTokenSource();
    this.current = { cancel: () => cts.cancel() };
    run.token.onCancellationRequested(() => cts.cancel());
    let answer = "";
    const send = async (sessionId: string | undefined) =>
      runJob(
        this.ctx.daemon,
        this.ctx.jobs,
        (jobId, tok) =>
          this.ctx.daemon.get().sendRequest(
            ChatRequest,
            { jobId, image, message: text, ...(sessionId ? { sessionId } : {}), ...(this.ctx.config.model ? { model: this.ctx.config.model } : {}), generation: { maxTokens: this.ctx.config.maxTokens } },
            tok,
          ),
        {
          onToken: (t, p) => {
            // Consensus decoding: provisional tokens, then the chosen answer replacing them.
            answer = p.replace ? t : answer + t;
            this.post({ type: "token", text: t, ...(p.replace ? { replace: true } : {}), ...(p.provisional ? { provisional: true } : {}) });
          },
        },
        cts.token,
      );
    try {
      let sessionId = this.history.get(image).sessionId;
      let outcome = await send(sessionId).catch((e: unknown) => ({ ok: false as const, reason: String(e) }));
      if (!outcome.ok && sessionId && /session/i.test(outcome.reason)) {
        sessionId = undefined;
        outcome = await send(undefined);
      }
      const interrupted = !outcome.ok || outcome.cancelled;
      const reason = outcome.ok ? (outcome.cancelled ? "stopped" : undefined) : outcome.reason;
      const index = await this.history.append(image, { role: "assistant", text: answer, ...(interrupted ? { interrupted: true } : {}) }, outcome.ok ? outcome.result.sessionId : sessionId);
      this.post({ type: "answerEnd", index, interrupted, ...(reason ? { reason } : {}) });
    } finally {
      run.done();
      cts.dispose();
      this.current = undefined;
    }
  }
}

export function registerChatView(ctx: Ctx): vscode.Disposable[] {
  const track = (e: vscode.TextEditor | undefined) => {
    const image = e ? imageOfDocument(e.document) : undefined;
    if (image) ctx.setActiveImage(image);
  };
  // An image open in any editor (VS Code's own image preview too) is the one the commands act on.
  const trackTab = () => {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
    if (uri?.scheme === "file" && IMAGE_RE.test(uri.fsPath)) ctx.setActiveImage(uri.fsPath);
  };
  track(vscode.window.activeTextEditor);
  trackTab();
  return [
    vscode.window.tabGroups.onDidChangeTabs(trackTab),
    vscode.window.tabGroups.onDidChangeTabGroups(trackTab),
    vscode.window.registerWebviewViewProvider(CHAT_VIEW, new ChatView(ctx), { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.window.onDidChangeActiveTextEditor(track),
  ];
}

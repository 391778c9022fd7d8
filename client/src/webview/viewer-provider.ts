/**
 * The radiograph viewer: a custom read-only editor (default for DICOM, "Open With…" for
 * PNG/JPEG). Pixels come from the daemon's decodeImage at full bit depth; findings from findings.
 */
import * as vscode from "vscode";
import { DecodeImageRequest, FindingsRequest } from "@xraygpt/protocol";
import type { Ctx } from "../ctx.js";
import { viewerHtml } from "./html.js";
import { parseViewerMessage } from "./messages.js";

export const VIEWER_DICOM = "xraygpt.viewer";
export const VIEWER_IMAGE = "xraygpt.imageViewer";

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

class ViewerProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(private readonly ctx: Ctx) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    const media = vscode.Uri.joinPath(this.ctx.extension.extensionUri, "dist", "media");
    const webview = panel.webview;
    webview.options = { enableScripts: true, localResourceRoots: [media] };
    webview.html = viewerHtml({ cspSource: webview.cspSource, mediaUri: webview.asWebviewUri(media).toString() });
    const image = document.uri.fsPath;
    if (panel.active) this.ctx.setActiveImage(image);
    panel.onDidChangeViewState(() => panel.active && this.ctx.setActiveImage(image));
    webview.onDidReceiveMessage(async (raw: unknown) => {
      const parsed = parseViewerMessage(raw);
      if (!parsed.ok) {
        this.ctx.output.appendLine(`viewer: rejected a message: ${parsed.reason}`);
        return;
      }
      if (parsed.message.type === "heatmap") {
        await this.heatmap(webview, image, parsed.message.finding);
        return;
      }
      if (parsed.message.type === "summarize") {
        void webview.postMessage({ type: "busy", busy: true });
        await vscode.commands.executeCommand("xraygpt.summarize", document.uri);
        void webview.postMessage({ type: "busy", busy: false });
        return;
      }
      await this.load(webview, image);
    });
  }

  /** The occlusion map of one finding, computed by the daemon on demand (the webview keeps it per image and model). */
  private async heatmap(webview: vscode.Webview, image: string, finding: string): Promise<void> {
    try {
      const client = this.ctx.daemon.get();
      const f = await client.sendRequest(FindingsRequest, { image, heatmap: true, heatmapFinding: finding, ...(this.ctx.config.model ? { model: this.ctx.config.model } : {}) });
      const map = f.heatmaps?.find((h) => h.finding === finding);
      if (map) await webview.postMessage({ type: "heatmap", map });
    } catch (e) {
      await webview.postMessage({ type: "error", message: errorText(e) });
    }
  }

  private async load(webview: vscode.Webview, image: string): Promise<void> {
    try {
      // Until the daemon is up (starting, or waiting for the user to fix its settings), say so;
      // the image loads by itself once it runs.
      const client = await this.ctx.daemon.whenRunning((state) =>
        void webview.postMessage({ type: "status", message: state === "failed" ? "The XrayGPT daemon is not running (see its notification); the image loads once it runs." : "Waiting for the XrayGPT daemon…" }),
      );
      const showPatientTags = this.ctx.config.showPatientTags;
      let decoded;
      try {
        decoded = await client.sendRequest(DecodeImageRequest, { image, maxSize: 4096, includePatientTags: showPatientTags });
      } catch (e) {
        // The image cannot be shown: the viewer's empty state, with Summarize off.
        await webview.postMessage({ type: "error", message: errorText(e), fatal: true });
        return;
      }
      const tags = showPatientTags ? decoded.tags : decoded.tags.filter((t) => !t.patientIdentifying);
      await webview.postMessage({ type: "image", ...decoded, tags, patientTagsHidden: !showPatientTags });
      const f = await client.sendRequest(FindingsRequest, { image, ...(this.ctx.config.model ? { model: this.ctx.config.model } : {}) });
      await webview.postMessage({ type: "findings", labels: f.findings.labels, ...(f.findings.source ? { source: f.findings.source } : {}) });
    } catch (e) {
      await webview.postMessage({ type: "error", message: errorText(e) });
    }
  }
}

export function registerViewer(ctx: Ctx): vscode.Disposable[] {
  const provider = new ViewerProvider(ctx);
  const opts = { webviewOptions: { retainContextWhenHidden: true }, supportsMultipleEditorsPerDocument: true };
  return [
    vscode.window.registerCustomEditorProvider(VIEWER_DICOM, provider, opts),
    vscode.window.registerCustomEditorProvider(VIEWER_IMAGE, provider, opts),
    vscode.commands.registerCommand("xraygpt.openViewer", (uri?: vscode.Uri) => {
      const target = uri instanceof vscode.Uri ? uri : ctx.activeImage ? vscode.Uri.file(ctx.activeImage) : undefined;
      if (target) return vscode.commands.executeCommand("vscode.openWith", target, /\.(dcm|dicom)$/i.test(target.fsPath) ? VIEWER_DICOM : VIEWER_IMAGE);
      return undefined;
    }),
  ];
}

/**
 * The extension's state: settings, the daemon, the job router, running generations (for the
 * status bar and cancel), and the image the chat is about.
 */
import * as vscode from "vscode";
import { LoadModelRequest, ModelsRequest } from "@xraygpt/protocol";
import { readConfig, type XrayConfig } from "./config.js";
import { Daemon } from "./daemon.js";
import { JobRouter } from "./jobs.js";
import { ReportDecorations } from "./report/decorations.js";
import { Proposals } from "./report/proposals.js";

export class Ctx implements vscode.Disposable {
  config: XrayConfig;
  readonly output = vscode.window.createOutputChannel("XrayGPT");
  readonly jobs = new JobRouter();
  readonly daemon: Daemon;
  /** Running generations, each cancellable from the status bar. */
  readonly running = new Set<vscode.CancellationTokenSource>();
  /** What each running generation is doing now (shown by the status bar), by its source. */
  readonly activity = new Map<vscode.CancellationTokenSource, string>();
  /** Drafted-text decorations and the sidecar provenance of report documents. */
  readonly decorations: ReportDecorations;
  /** Drafts offered for sections that already have text. */
  readonly proposals: Proposals;
  private readonly runningChanged = new vscode.EventEmitter<void>();
  readonly onRunningChange = this.runningChanged.event;
  /** The radiograph the chat is about (the active viewer's image, or the active report's). */
  activeImage: string | undefined;
  private readonly activeImageChanged = new vscode.EventEmitter<string | undefined>();
  readonly onActiveImageChange = this.activeImageChanged.event;
  readonly subscriptions: vscode.Disposable[] = [];

  constructor(readonly extension: vscode.ExtensionContext) {
    this.config = this.readSettings();
    this.daemon = new Daemon(() => this.config, extension.extensionPath, this.output, this.jobs);
    this.decorations = new ReportDecorations(extension.extensionPath);
    this.proposals = new Proposals(this.decorations);
    this.subscriptions.push(
      this.decorations,
      this.proposals,
      this.output,
      this.daemon,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration("xraygpt")) return;
        const before = this.config;
        this.config = this.readSettings();
        const restartKeys = ["modelsFolder", "device", "daemonMode", "socketPath", "serverPath", "nodePath"] as const;
        if (restartKeys.some((k) => before[k] !== this.config[k])) void this.daemon.restart();
        else if (before.model !== this.config.model || (!before.preloadModel && this.config.preloadModel)) this.preload();
      }),
      // Each time the daemon (re)starts: load the model before the first request needs it.
      this.daemon.onDidChange(() => {
        const running = this.daemon.state === "running";
        if (running && !this.wasRunning) this.preload();
        this.wasRunning = running;
      }),
    );
  }

  private wasRunning = false;

  /**
   * Loads the configured model in the background (with the setting on), so the first Summarize
   * does not wait for the model process and its files. A failure is only logged: the request that
   * needs the model reports it where the user is.
   */
  private preload(): void {
    const id = this.config.model ?? this.daemon.status?.defaultModel;
    if (!this.config.preloadModel || !id || this.daemon.state !== "running" || this.daemon.status?.loadedModels.includes(id)) return;
    const t0 = Date.now();
    this.daemon
      .get()
      .sendRequest(LoadModelRequest, { model: id })
      .then(
        () => this.output.appendLine(`model ${id}: loaded ahead of the first request in ${Date.now() - t0} ms`),
        (e: unknown) => this.output.appendLine(`model ${id}: not loaded ahead (${e instanceof Error ? e.message : String(e)}); the first request will say why`),
      );
  }

  private readSettings(): XrayConfig {
    const c = vscode.workspace.getConfiguration("xraygpt");
    const { config, problems } = readConfig((k) => c.get(k));
    for (const p of problems) this.output.appendLine(`settings: ${p}`);
    return config;
  }

  /** The model requests will use (the setting, else the daemon's default), with its version. */
  async modelRef(): Promise<{ id: string; version: string }> {
    const id = this.config.model ?? this.daemon.status?.defaultModel ?? "default";
    try {
      const { models } = await this.daemon.get().sendRequest(ModelsRequest, {});
      const m = models.find((x) => x.id === id) ?? models.find((x) => x.default);
      return m ? { id: m.id, version: m.version } : { id, version: "unknown" };
    } catch {
      return { id, version: "unknown" };
    }
  }

  /** A cancellation source registered as running until `done` is called. */
  track(): { token: vscode.CancellationToken; done(): void; say(activity: string | undefined): void } {
    const cts = new vscode.CancellationTokenSource();
    this.running.add(cts);
    this.runningChanged.fire();
    return {
      token: cts.token,
      say: (activity) => {
        if (!this.running.has(cts) || this.activity.get(cts) === activity) return;
        if (activity) this.activity.set(cts, activity);
        else this.activity.delete(cts);
        this.runningChanged.fire();
      },
      done: () => {
        this.running.delete(cts);
        this.activity.delete(cts);
        cts.dispose();
        this.runningChanged.fire();
      },
    };
  }

  cancelAll(): void {
    for (const c of this.running) c.cancel();
  }

  setActiveImage(image: string | undefined): void {
    if (image === this.activeImage) return;
    this.activeImage = image;
    this.activeImageChanged.fire(image);
  }

  dispose(): void {
    this.cancelAll();
    for (const d of this.subscriptions) d.dispose();
  }
}

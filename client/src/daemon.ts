/**
 * The connection to the daemon through vscode-languageclient: a per-window child over stdio, or a
 * shared daemon on a local socket (started when nobody serves there yet, with --exit-when-idle; only
 * a socket in a folder of the user's own is used). If the daemon dies, pending requests fail with
 * "the XrayGPT daemon stopped" (request-error.ts; their callers mark their output interrupted), the
 * state shows in the status bar, and the client restarts or reconnects with bounded backoff.
 */
import { execFile, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  type LanguageClientOptions,
  type ServerOptions,
  type StreamInfo,
} from "vscode-languageclient/node";
import { ProgressNotification, ServerStatusNotification, StatusRequest, TokenNotification, type ServerStatus } from "@xraygpt/protocol";
import { defaultSocketPath, socketPathProblem } from "@xraygpt/protocol/socket-path";
import { RestartPolicy } from "./backoff.js";
import { commandLine, findCli, serveCommand, type DaemonCommand } from "./bootstrap.js";
import type { XrayConfig } from "./config.js";
import type { JobRouter } from "./jobs.js";
import { notRunningMessage, type DaemonState } from "./status-text.js";

function connectSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

async function sharedServer(config: XrayConfig, cmd: DaemonCommand, out: vscode.OutputChannel): Promise<StreamInfo> {
  // Never send image paths to a socket another user could have put there.
  const problem = socketPathProblem(config.socketPath, { create: config.socketPath === defaultSocketPath() });
  if (problem) throw new Error(problem);
  try {
    const s = await connectSocket(config.socketPath);
    out.appendLine(`attached to the shared daemon on ${config.socketPath}`);
    return { reader: s, writer: s };
  } catch {
    out.appendLine(`starting the shared daemon: ${commandLine(cmd)}`);
    const child = spawn(cmd.command, cmd.args, { detached: true, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...cmd.env } });
    child.stderr?.on("data", (b: Buffer) => out.append(b.toString()));
    child.unref();
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const s = await connectSocket(config.socketPath);
        return { reader: s, writer: s };
      } catch (e) {
        if (child.exitCode !== null) throw new Error(`the shared daemon exited with code ${child.exitCode} (see the XrayGPT output)`);
        if (Date.now() > deadline) throw new Error(`no daemon answered on ${config.socketPath} within 60 s: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}

/**
 * Runs the daemon's CLI with `--version`: a command that cannot run at all (not found, not
 * executable, a Node.js too old for it, missing files) fails here in a second, with its reason,
 * instead of as a language-client connection error. Resolves to the reason, or undefined.
 */
function preflight(cli: DaemonCommand): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(cli.command, [...cli.args, "--version"], { env: { ...process.env, ...cli.env }, timeout: 60_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve(undefined);
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === "ENOENT") return resolve(`${cli.command}: not found`);
      if (e.code === "EACCES") return resolve(`${cli.command}: not executable`);
      if (e.killed) return resolve("it did not answer within 60 s");
      const last = String(stderr).trim().split("\n").filter(Boolean).slice(-3).join(" ");
      resolve(`it exited with code ${String(e.code)}${last ? `: ${last}` : ""}`);
    });
  });
}

export class Daemon implements vscode.Disposable {
  client: LanguageClient | undefined;
  state: DaemonState = "stopped";
  status: ServerStatus | undefined;
  private readonly policy = new RestartPolicy();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private restartTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  /** Why the daemon could not start, while state is "failed". */
  failure: string | undefined;

  constructor(
    private readonly config: () => XrayConfig,
    private readonly extensionPath: string,
    readonly output: vscode.OutputChannel,
    private readonly jobs: JobRouter,
  ) {}

  private setState(s: DaemonState): void {
    this.state = s;
    if (s !== "failed") this.failure = undefined;
    if (s !== "running") this.status = undefined;
    this.changed.fire();
  }

  async start(): Promise<void> {
    const config = this.config();
    const cmd = serveCommand(config, this.extensionPath);
    this.setState("starting");
    const cli = findCli(config, this.extensionPath);
    const cannot = await preflight(cli);
    if (cannot !== undefined) return this.cannotStart(commandLine(cli), cannot);
    const serverOptions: ServerOptions =
      config.daemonMode === "shared"
        ? () => sharedServer(config, cmd, this.output)
        : { command: cmd.command, args: cmd.args, options: { env: { ...process.env, ...cmd.env } } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file", language: "markdown", pattern: "**/*.report.md" }],
      outputChannel: this.output,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => {
          this.onCrash();
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    const client = new LanguageClient("xraygpt", "XrayGPT daemon", serverOptions, clientOptions);
    this.client = client;
    client.onNotification(TokenNotification, (p) => this.jobs.token(p));
    client.onNotification(ProgressNotification, (p) => this.jobs.progress(p));
    client.onNotification(ServerStatusNotification, (s) => {
      this.status = s;
      this.changed.fire();
    });
    this.output.appendLine(config.daemonMode === "shared" ? `daemon: shared on ${config.socketPath}` : `daemon: ${commandLine(cmd)}`);
    try {
      await client.start();
      this.status = await client.sendRequest(StatusRequest, {});
      this.setState("running");
      this.status = this.status ?? (await client.sendRequest(StatusRequest, {}));
      this.changed.fire();
    } catch (e) {
      if (client.state !== State.Stopped) await client.stop().catch(() => undefined);
      this.cannotStart(commandLine(cmd), e instanceof Error ? e.message : String(e));
    }
  }

  /**
   * The daemon could not start: one notification saying why, with what helps, and no retry loop
   * (nothing changes by itself). A settings change restarts it (ctx.ts), as does Retry.
   */
  private cannotStart(command: string, reason: string): void {
    this.output.appendLine(`daemon: could not start \`${command}\`: ${reason}`);
    this.failure = reason;
    this.setState("failed");
    if (this.disposed) return;
    const msg = `XrayGPT: the daemon could not start: ${reason}. Tried: ${command}. Set "xraygpt.server.path" to the daemon's CLI (server/dist/cli.js of a checkout, or an xraygpt executable), or install the XrayGPT VSIX for your platform, which carries it.`;
    void vscode.window.showErrorMessage(msg, "Open Settings", "Show Log", "Retry").then((a) => {
      if (a === "Open Settings") void vscode.commands.executeCommand("workbench.action.openSettings", "xraygpt.server.path");
      if (a === "Show Log") this.output.show();
      if (a === "Retry") void this.restart();
    });
  }

  /**
   * The running client, now or once the daemon is up (views that need it wait here and recover by
   * themselves once the user fixes a setting); `onWait` hears each state while waiting.
   */
  whenRunning(onWait?: (state: DaemonState) => void): Promise<LanguageClient> {
    if (this.client && this.state === "running") return Promise.resolve(this.client);
    let last: DaemonState | undefined;
    const wait = () => {
      if (this.state !== last) onWait?.((last = this.state));
    };
    wait();
    return new Promise((resolve, reject) => {
      const sub = this.onDidChange(() => {
        if (this.disposed) return sub.dispose(), reject(new Error("the XrayGPT extension is shutting down"));
        if (this.client && this.state === "running") return sub.dispose(), resolve(this.client);
        wait();
      });
    });
  }

  private onCrash(): void {
    if (this.disposed || this.restartTimer) return;
    const delay = this.policy.onCrash(Date.now());
    if (delay === undefined) {
      this.setState("failed");
      void vscode.window.showErrorMessage("XrayGPT: the daemon keeps stopping; it will not be restarted. See the XrayGPT output.", "Show Output", "Restart").then((a) => {
        if (a === "Show Output") this.output.show();
        if (a === "Restart") void this.restart();
      });
      return;
    }
    this.output.appendLine(`daemon: stopped; restarting in ${delay} ms`);
    this.setState("restarting");
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      const old = this.client;
      this.client = undefined;
      void (async () => {
        await old?.dispose().catch(() => undefined);
        await this.start();
      })();
    }, delay);
  }

  async restart(): Promise<void> {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.policy.reset();
    const old = this.client;
    this.client = undefined;
    this.setState("stopped");
    await old?.dispose().catch(() => undefined);
    await this.start();
  }

  /** The running client, or an error saying why there is none. */
  get(): LanguageClient {
    if (!this.client || this.state !== "running") throw new Error(notRunningMessage(this.state, this.failure));
    return this.client;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.restartTimer);
    void this.client?.dispose().catch(() => undefined);
    this.changed.fire(); // waiting views hear that the extension is going
    this.changed.dispose();
  }
}

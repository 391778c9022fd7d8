/**
 * Finds the daemon's CLI and builds its command line from the settings. The CLI is, in order:
 * the `xraygpt.server.path` setting; the daemon the platform VSIX carries
 * (`<extension>/daemon/server/bin/xraygpt.js`); the repository layout
 * (`<extension>/../server/dist/cli.js`, when the extension runs from a checkout); else `xraygpt`
 * on PATH. A .js CLI runs with `xraygpt.server.nodePath` when set, else with the editor's own
 * runtime: its executable with ELECTRON_RUN_AS_NODE=1 (desktop VS Code's Electron runs as plain
 * Node.js then; code-server's extension host is Node.js already and ignores it).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { XrayConfig } from "./config.js";

export interface DaemonCommand {
  command: string;
  args: string[];
  /** Added to the environment of the process. */
  env?: Record<string, string>;
}

/** The daemon CLI a platform VSIX carries, relative to the extension folder. */
export const BUNDLED_CLI = ["daemon", "server", "bin", "xraygpt.js"];

export function findCli(config: XrayConfig, extensionPath: string, exists: (p: string) => boolean = existsSync, runtime: string = process.execPath): DaemonCommand {
  const candidates = [join(extensionPath, ...BUNDLED_CLI), join(extensionPath, "..", "server", "dist", "cli.js"), join(extensionPath, "server", "dist", "cli.js")];
  const cli = config.serverPath ?? candidates.find(exists);
  if (!cli) return { command: "xraygpt", args: [] };
  if (!/\.[cm]?js$/.test(cli)) return { command: cli, args: [] };
  return config.nodePath ? { command: config.nodePath, args: [cli] } : { command: runtime, args: [cli], env: { ELECTRON_RUN_AS_NODE: "1" } };
}

/** Flags for the engine (model, models folder, device), shared by every mode. */
export function engineArgs(config: XrayConfig): string[] {
  return [
    ...(config.model ? ["--model", config.model] : []),
    ...(config.modelsFolder ? ["--models-dir", config.modelsFolder] : []),
    "--device",
    config.device,
  ];
}

export function serveCommand(config: XrayConfig, extensionPath: string, exists?: (p: string) => boolean, runtime?: string): DaemonCommand {
  const base = findCli(config, extensionPath, exists, runtime);
  // A shared daemon started by a window stops once no window has been connected for a while.
  const mode = config.daemonMode === "shared" ? ["--socket", config.socketPath, "--exit-when-idle"] : ["--stdio"];
  return { ...base, args: [...base.args, "serve", ...mode, ...engineArgs(config)] };
}

/** The command line as the user would type it (for messages and the log). */
export function commandLine(cmd: DaemonCommand): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return [...Object.entries(cmd.env ?? {}).map(([k, v]) => `${k}=${quote(v)}`), quote(cmd.command), ...cmd.args.map(quote)].join(" ");
}

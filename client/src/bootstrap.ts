/**
 * Finds the daemon's CLI and builds its command line from the settings. The CLI is, in order:
 * the `xraygpt.server.path` setting, the repository layout (`<extension>/../server/dist/cli.js`,
 * when the extension runs from a checkout), else `xraygpt` on PATH.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { XrayConfig } from "./config.js";

export interface DaemonCommand {
  command: string;
  args: string[];
}

export function findCli(config: XrayConfig, extensionPath: string, exists: (p: string) => boolean = existsSync): DaemonCommand {
  const cli = config.serverPath ?? [join(extensionPath, "..", "server", "dist", "cli.js"), join(extensionPath, "server", "dist", "cli.js")].find(exists);
  if (!cli) return { command: "xraygpt", args: [] };
  return cli.endsWith(".js") ? { command: config.nodePath, args: [cli] } : { command: cli, args: [] };
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

export function serveCommand(config: XrayConfig, extensionPath: string, exists?: (p: string) => boolean): DaemonCommand {
  const base = findCli(config, extensionPath, exists);
  // A shared daemon started by a window stops once no window has been connected for a while.
  const mode = config.daemonMode === "shared" ? ["--socket", config.socketPath, "--exit-when-idle"] : ["--stdio"];
  return { command: base.command, args: [...base.args, "serve", ...mode, ...engineArgs(config)] };
}

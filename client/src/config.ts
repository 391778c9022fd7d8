/**
 * Every `xraygpt.*` setting, read and checked in one place. `readConfig` takes a getter so it can
 * be used with `vscode.workspace.getConfiguration("xraygpt").get` and tested without VS Code.
 */
import { defaultSocketPath } from "@xraygpt/protocol/socket-path";

export type DeviceSetting = "auto" | "cpu" | "gpu";
export type DaemonMode = "per-window" | "shared";
export type TraceSetting = "off" | "messages" | "verbose";

export interface XrayConfig {
  /** Model id; undefined = the daemon's default. */
  model?: string;
  modelsFolder?: string;
  device: DeviceSetting;
  daemonMode: DaemonMode;
  socketPath: string;
  /** The daemon's CLI (a .js file run with node, or an executable); undefined = the bundled one. */
  serverPath?: string;
  /** The Node.js (20+) that runs a .js daemon CLI; undefined = the editor's own runtime. */
  nodePath?: string;
  maxTokens: number;
  /** undefined = the model's default. */
  temperature?: number;
  /** undefined = reports beside their images. */
  reportsFolder?: string;
  showPatientTags: boolean;
  trace: TraceSetting;
  /** Load the model when the daemon starts and when the setting names another (default true). */
  preloadModel: boolean;
}

export type Getter = (key: string) => unknown;

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], fallback: T, key: string, problems: string[]): T {
  if (v === undefined || v === null || v === "") return fallback;
  if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
  problems.push(`xraygpt.${key} must be one of ${allowed.join(", ")} (got ${JSON.stringify(v)}); using "${fallback}"`);
  return fallback;
}

function num(v: unknown, min: number, max: number, key: string, problems: string[]): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "number" && Number.isFinite(v) && v >= min && v <= max) return v;
  problems.push(`xraygpt.${key} must be a number from ${min} to ${max} (got ${JSON.stringify(v)}); using the default`);
  return undefined;
}

/** Reads the settings; `problems` lists the invalid ones (each replaced by its default). */
export function readConfig(get: Getter): { config: XrayConfig; problems: string[] } {
  const problems: string[] = [];
  const model = str(get("model"));
  const modelsFolder = str(get("modelsFolder"));
  const serverPath = str(get("server.path"));
  const nodePath = str(get("server.nodePath"));
  const temperature = num(get("temperature"), 0, 2, "temperature", problems);
  const reportsFolder = str(get("reportsFolder"));
  const config: XrayConfig = {
    ...(model ? { model } : {}),
    ...(modelsFolder ? { modelsFolder } : {}),
    device: oneOf(get("device"), ["auto", "cpu", "gpu"] as const, "auto", "device", problems),
    daemonMode: oneOf(get("daemonMode"), ["per-window", "shared"] as const, "per-window", "daemonMode", problems),
    socketPath: str(get("socketPath")) ?? defaultSocketPath(),
    ...(serverPath ? { serverPath } : {}),
    ...(nodePath ? { nodePath } : {}),
    maxTokens: Math.round(num(get("maxTokens"), 1, 8192, "maxTokens", problems) ?? 512),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(reportsFolder ? { reportsFolder } : {}),
    showPatientTags: get("viewer.showPatientTags") === true,
    trace: oneOf(get("trace.server"), ["off", "messages", "verbose"] as const, "off", "trace.server", problems),
    preloadModel: get("preloadModel") !== false,
  };
  return { config, problems };
}

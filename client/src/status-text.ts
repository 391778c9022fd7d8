/** The status bar's text and tooltip for the daemon's state (pure; rendered by status-bar.ts). */
import type { ServerStatus } from "@xraygpt/protocol";

export type DaemonState = "starting" | "running" | "restarting" | "stopped" | "failed";

export function statusText(state: DaemonState, s: ServerStatus | undefined, model: string | undefined): { text: string; tooltip: string; error: boolean } {
  if (state !== "running" || !s) {
    const icon = state === "failed" ? "$(error)" : state === "stopped" ? "$(circle-slash)" : "$(sync~spin)";
    return { text: `${icon} XrayGPT: ${state}`, tooltip: `XrayGPT daemon ${state}. Click to choose a model; see the XrayGPT output for the log.`, error: state === "failed" };
  }
  const shown = model ?? s.defaultModel ?? "no model";
  const dev = s.device.llm === "none" ? "" : ` · ${s.device.llm === "cpu" ? "CPU" : s.device.llm === "remote" ? "remote" : "GPU"}`;
  const busy = s.queue.running + s.queue.queued;
  const queue = busy ? ` · ${s.queue.running} running${s.queue.queued ? `, ${s.queue.queued} queued` : ""}` : "";
  const icon = s.health === "error" ? "$(error)" : s.health === "warning" ? "$(warning)" : busy ? "$(loading~spin)" : "$(pulse)";
  const tooltip = [
    `XrayGPT daemon ${s.version} (pid ${s.pid}): ${s.health}${s.message ? ` — ${s.message}` : ""}`,
    `Model: ${shown}${s.loadedModels.length ? ` (loaded: ${s.loadedModels.join(", ")})` : ""}`,
    `Device: vision ${s.device.vision}, LLM ${s.device.llm}${s.device.detail ? ` (${s.device.detail})` : ""}`,
    `Queue: ${s.queue.running} running, ${s.queue.queued} queued`,
    "Click to choose a model.",
  ].join("\n");
  return { text: `${icon} ${shown}${dev}${queue}`, tooltip, error: s.health === "error" };
}

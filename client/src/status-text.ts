/** The status bar's text and tooltip for the daemon's state (pure; rendered by status-bar.ts). */
import type { ServerStatus } from "@xraygpt/protocol";

export type DaemonState = "starting" | "running" | "restarting" | "stopped" | "failed";

/** The state in words, for "XrayGPT: …" and "the XrayGPT daemon is …". */
export const STATE_WORDS: Record<DaemonState, string> = { starting: "starting", running: "running", restarting: "restarting", stopped: "stopped", failed: "not running" };

/** Why a request cannot be sent now: the daemon is not running (with why, and what to do), or still starting. */
export function notRunningMessage(state: DaemonState, failure?: string): string {
  if (state === "failed") return `the XrayGPT daemon is not running (${failure ?? "it stopped"}; see "XrayGPT: Show Daemon Log", then "XrayGPT: Restart Daemon")`;
  if (state === "stopped") return "the XrayGPT daemon has stopped; it starts again with \"XrayGPT: Restart Daemon\"";
  return `the XrayGPT daemon is still ${STATE_WORDS[state]}; try again in a moment`;
}

export function statusText(state: DaemonState, s: ServerStatus | undefined, model: string | undefined): { text: string; tooltip: string; error: boolean } {
  if (state !== "running" || !s) {
    const icon = state === "failed" ? "$(error)" : state === "stopped" ? "$(circle-slash)" : "$(sync~spin)";
    return { text: `${icon} XrayGPT: ${STATE_WORDS[state]}`, tooltip: `The XrayGPT daemon is ${STATE_WORDS[state]}. Click to choose a model; see the XrayGPT output for the log.`, error: state === "failed" };
  }
  const shown = model ?? s.defaultModel ?? "no model";
  const dev = s.device.llm === "none" ? "" : ` · ${s.device.llm === "cpu" ? "CPU" : s.device.llm === "remote" ? "remote" : "GPU"}`;
  const busy = s.queue.running + s.queue.queued;
  const queue = busy ? ` · ${s.queue.running} running${s.queue.queued ? `, ${s.queue.queued} queued` : ""}` : "";
  const endpoints = (s.remote ?? []).flatMap((r) => r.endpoints);
  const down = endpoints.filter((e) => !e.up).length;
  const remote = down ? ` · ${down}/${endpoints.length} endpoint${endpoints.length > 1 ? "s" : ""} down` : "";
  const icon = s.health === "error" ? "$(error)" : s.health === "warning" || down ? "$(warning)" : busy ? "$(loading~spin)" : "$(pulse)";
  const tooltip = [
    `XrayGPT daemon ${s.version} (pid ${s.pid}): ${s.health}${s.message ? ` — ${s.message}` : ""}`,
    `Model: ${shown}${s.loadedModels.length ? ` (loaded: ${s.loadedModels.join(", ")})` : ""}`,
    `Device: vision ${s.device.vision}, LLM ${s.device.llm}${s.device.detail ? ` (${s.device.detail})` : ""}`,
    ...(s.remote ?? []).map((r) => `Endpoints of ${r.model}: ${r.endpoints.map(endpointText).join("; ")}`),
    `Queue: ${s.queue.running} running, ${s.queue.queued} queued`,
    "Click to choose a model.",
  ].join("\n");
  return { text: `${icon} ${shown}${dev}${queue}${remote}`, tooltip, error: s.health === "error" };
}

function endpointText(e: NonNullable<ServerStatus["remote"]>[number]["endpoints"][number]): string {
  if (e.up) return `${e.url} up${e.inFlight ? ` (${e.inFlight} in flight)` : ""}`;
  return `${e.url} down (${e.lastError ?? "failed"}${e.retryInMs !== undefined ? `; retried in ${Math.ceil(e.retryInMs / 1000)} s` : ""})`;
}

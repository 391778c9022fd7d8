/** What the user is told about a draft and a batch of them, in plain words (pure; no VS Code). */
import type { ProgressParams } from "@xraygpt/protocol";

export type ImageOutcome =
  | { kind: "done" }
  | { kind: "cancelled"; words: number; reportWritten: boolean }
  | { kind: "failed"; reason: string; reportWritten: boolean };

/** The notification after a draft that did not complete (cancelled or failed). */
export function draftMessage(what: string, name: string, r: ImageOutcome, sections: readonly string[] = []): string {
  if (r.kind === "done") return `XrayGPT: ${what} of ${name} done.`;
  const where = sections.length ? ` in ${sections.join(" and ")}` : "";
  if (r.kind === "cancelled") {
    return r.words === 0 || !r.reportWritten
      ? `XrayGPT: ${what} of ${name} cancelled before any text was generated; nothing was written.`
      : `XrayGPT: ${what} of ${name} cancelled; the ${r.words} word${r.words === 1 ? "" : "s"} generated so far ${r.words === 1 ? "is" : "are"} kept${where}, marked interrupted.`;
  }
  const kept = r.reportWritten ? ` The text generated before it stopped is kept${where}, marked interrupted.` : " No report was written.";
  return `XrayGPT: cannot ${what === "summary" ? "summarize" : `draft the ${what} of`} ${name}: ${r.reason}.${kept}`.replace(/\.\.(?=\s|$)/g, ".");
}

/** A cancelled batch: how many images were done, stopped, failed and left untouched. */
export function batchSummary(outcomes: readonly ImageOutcome[], total: number): string {
  const done = outcomes.filter((o) => o.kind === "done").length;
  const stopped = outcomes.filter((o) => o.kind === "cancelled").length;
  const failed = outcomes.filter((o) => o.kind === "failed").length;
  const left = total - outcomes.length;
  const parts = [`${done} done`, ...(failed ? [`${failed} failed`] : []), `${stopped} stopped${stopped ? " (partial text kept where there was any)" : ""}`, `${left} not started`];
  return `XrayGPT: batch of ${total} summaries cancelled: ${parts.join(", ")}.`;
}

const STAGES: Record<ProgressParams["stage"], string> = {
  queued: "queued",
  decode: "reading",
  vision: "looking at",
  loading: "loading the model for",
  prompt: "reading the prompt for",
  generate: "writing",
  done: "finished",
};

/** The status bar's words for a job's stage: "writing chest.png · 2 of 5 candidates". */
export function stageText(name: string, p: Pick<ProgressParams, "stage" | "position">, note?: string): string {
  const queued = p.stage === "queued" && p.position !== undefined ? ` (${p.position === 0 ? "next" : `${p.position} ahead`})` : "";
  return `${STAGES[p.stage]} ${name}${queued}${note ? ` · ${note}` : ""}`;
}

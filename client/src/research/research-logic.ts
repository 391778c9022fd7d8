/**
 * The research commands' logic that needs no VS Code: progress text of a batch, the reference
 * filter the user types, and what "Mark reviewed" records from a report document.
 */
import type { AnnotateProgressParams, ReviewParams } from "@xraygpt/protocol";
import { parseReport } from "xraygpt/daemon/report/report-format";
import { resolveImageField } from "xraygpt/daemon/report/report-paths";
import { sectionText } from "xraygpt/daemon/report/report-actions";

/** Front-matter field naming the annotation log a report's review is recorded in (relative to the report's folder). */
export const ANNOTATION_LOG_FIELD = "annotationLog";

/** "45 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** The progress notification's message: counts and ETA. */
export function annotateProgressMessage(p: AnnotateProgressParams): string {
  const parts = [`${p.done}/${p.total} images`];
  if (p.failed > 0) parts.push(`${p.failed} failed`);
  if (p.skipped > 0) parts.push(`${p.skipped} already done`);
  if (p.done < p.total) parts.push(p.etaMs === undefined ? "ETA estimating…" : `ETA ${formatDuration(p.etaMs)}`);
  return parts.join(" · ");
}

/** "split=val, view=PA" → { split: "val", view: "PA" }; "" → {}. */
export function parseWhere(text: string): { ok: true; where: Record<string, string> } | { ok: false; reason: string } {
  const where: Record<string, string> = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) return { ok: false, reason: `"${part}" is not COLUMN=VALUE` };
    where[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return { ok: true, where };
}

/**
 * The reviewed report's final text: its Findings and Impression sections without draft markers;
 * when both are empty, the text of its AI-draft blocks as the radiologist left them.
 */
export function reviewFinalText(text: string): string {
  const report = parseReport(text);
  const sections = (["Findings", "Impression"] as const).map((s) => sectionText(text, s, report)).filter(Boolean);
  const parts = sections.length > 0 ? sections : report.drafts.map((d) => d.text).filter(Boolean);
  return parts.join("\n\n");
}

/**
 * The review to record for a report, or why there is none: `undefined` when the report names no
 * annotation log (nothing to record, not an error).
 */
export function reviewOfReport(reportPath: string, text: string): Omit<ReviewParams, "reviewer"> | { problem: string } | undefined {
  const fields = parseReport(text).frontMatter?.fields;
  const log = fields?.get(ANNOTATION_LOG_FIELD)?.value;
  if (!log) return undefined;
  const image = fields?.get("image")?.value;
  if (!image) return { problem: "the report names no image (front matter `image:`)" };
  const final = reviewFinalText(text);
  if (!final) return { problem: "the report's Findings and Impression (and AI drafts) are empty" };
  return { log: resolveImageField(reportPath, log), image: resolveImageField(reportPath, image), final };
}

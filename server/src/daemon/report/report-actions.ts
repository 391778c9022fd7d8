/**
 * The report's drafting actions and hover, as pure functions. Drafting itself streams from the
 * model, so the actions are commands the editor extension runs (it owns the streaming edits).
 */
import type { Findings } from "@xraygpt/protocol";
import { findTerms, probabilityOf } from "./finding-terms.js";
import { findSection, parseReport, type ParsedReport, type SectionName } from "./report-format.js";

/** The command the extension registers: arguments [reportUri: string, section: SectionName]. */
export const DRAFT_SECTION_COMMAND = "xraygpt.draftSection";

/**
 * The command the extension registers to record a review (`xraygpt/review`) in the annotation log
 * the report's front matter names (`annotationLog`); arguments [reportUri: string]. Attached to the
 * "Mark report as reviewed" quick fix, so it runs after the status edit.
 */
export const RECORD_REVIEW_COMMAND = "xraygpt.recordReview";

export interface DraftAction {
  title: string;
  section: SectionName;
}

/** "Draft findings from image" when the report names an image; "Draft impression from findings" when Findings has text. */
export function draftActions(text: string, hasImage: boolean, report: ParsedReport = parseReport(text)): DraftAction[] {
  const actions: DraftAction[] = [];
  if (hasImage) actions.push({ title: "Draft findings from image", section: "Findings" });
  if (sectionText(text, "Findings", report).length > 0) actions.push({ title: "Draft impression from findings", section: "Impression" });
  return actions;
}

/** A section's text without draft markers and headings, trimmed ("" when absent). */
export function sectionText(text: string, name: SectionName, report: ParsedReport = parseReport(text)): string {
  const s = findSection(report, name);
  if (!s) return "";
  return text
    .slice(s.bodyStart, s.end)
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/^#{1,6} .*$/gm, "")
    .trim();
}

export interface HoverResult {
  start: number;
  end: number;
  markdown: string;
}

/** The vision model's probability for the finding term at `offset`. */
export function findingHover(text: string, offset: number, findings: Findings | undefined, model?: string): HoverResult | undefined {
  const t = findTerms(text).find((m) => offset >= m.start && offset <= m.end);
  if (!t) return undefined;
  if (!findings) return { start: t.start, end: t.end, markdown: `**${t.label}**: no vision findings for this report's image.` };
  const p = probabilityOf(findings.labels, t.label);
  const who = model ? ` (${model})` : "";
  const markdown = p === undefined ? `**${t.label}**: not a label of the vision model${who}.` : `**${t.label}**: vision model probability **${p.toFixed(2)}**${who}.`;
  return { start: t.start, end: t.end, markdown };
}

/**
 * The report document as a radiologist keeps it, as pure functions (no VS Code): the ACR-order
 * sections, a summary split into Findings and Impression, section bodies filled in place, and the
 * provenance sidecar (`<report>.provenance.json`: which model drafted which section, when, in
 * which job, whether the draft completed, and what the user has changed since). The report's
 * text carries no markup of its own; the editor shows drafted ranges with decorations.
 */
import { editDistance } from "xraygpt/metrics/edit-distance";
import { parseFrontMatter, parseReport, findSection, yamlValue, type OffsetEdit, type ReportMeta } from "xraygpt/daemon/report/report-format";

/** Front-matter field listing the sections that hold AI-drafted text (the daemon flags them until the report is reviewed). */
export const DRAFTED_FIELD = "drafted";

/** The sections of a radiology report, in the ACR practice-parameter order. */
export const REPORT_SECTIONS = ["Examination", "Indication", "Comparison", "Findings", "Impression"] as const;
export type ReportSection = (typeof REPORT_SECTIONS)[number];
export type DraftedSection = "Findings" | "Impression";

/** A new report: front matter, a title and the five sections, empty. */
export function newRadiologyReport(meta: ReportMeta, title: string): string {
  const fm = ["---", `image: ${yamlValue(meta.image)}`, `model: ${yamlValue(meta.model)}`, `modelVersion: ${yamlValue(meta.modelVersion)}`, `time: ${meta.time}`, "status: draft", "---"];
  return [...fm, "", `# Report: ${title}`, "", ...REPORT_SECTIONS.flatMap((s) => [`## ${s}`, ""])].join("\n");
}

/**
 * A summary's Findings and Impression: the text after "Impression:" is the impression, the text
 * before it (without a "Findings:" heading) the findings; with no "Impression:", all findings.
 */
export function splitSummary(text: string): { findings: string; impression: string } {
  const m = /(^|[\s.])impression:\s*/i.exec(text);
  const before = m ? text.slice(0, m.index + m[1]!.length) : text;
  const after = m ? text.slice(m.index + m[0].length) : "";
  const tidy = (t: string) => t.replace(/^\s*findings:\s*/i, "").replace(/[ \t]+/g, " ").trim();
  return { findings: tidy(before), impression: tidy(after) };
}

/** A section's body: [start, end) without the blank lines around it, and its text. */
export interface SectionBody {
  /** Where the body's text starts (or where text would go when it is empty). */
  start: number;
  end: number;
  text: string;
  /** Offsets of the whole region after the heading line up to the next heading. */
  regionStart: number;
  regionEnd: number;
}

export function sectionBody(text: string, name: string): SectionBody | undefined {
  const s = findSection(parseReport(text), name);
  if (!s) return undefined;
  let start = s.bodyStart;
  let end = s.end;
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  return { start, end, text: text.slice(start, end), regionStart: s.bodyStart, regionEnd: s.end };
}

/**
 * The edit that makes section `name`'s body `body` (a blank line after the heading, one before
 * the next); a missing section is created in ACR order (before the first later section present,
 * else at the end).
 */
export function setSectionBodyEdit(text: string, name: ReportSection, body: string): OffsetEdit {
  const b = sectionBody(text, name);
  const content = body.trim();
  if (b) {
    const last = b.regionEnd === text.length;
    return { start: b.regionStart, end: b.regionEnd, text: content ? `\n${content}\n${last ? "" : "\n"}` : last ? "" : "\n" };
  }
  const later = REPORT_SECTIONS.slice(REPORT_SECTIONS.indexOf(name) + 1);
  const report = parseReport(text);
  const next = later.map((l) => findSection(report, l)).find((s) => s !== undefined);
  const block = `## ${name}\n\n${content}${content ? "\n\n" : ""}`;
  if (next) return { start: next.start, end: next.start, text: block };
  const sep = text.length === 0 || text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n";
  return { start: text.length, end: text.length, text: `${sep}${block}` };
}

/** Sets a front-matter field (adding it before the closing line when missing); undefined without front matter or when unchanged. */
export function setFieldEdit(text: string, key: string, value: string): OffsetEdit | undefined {
  const fm = parseFrontMatter(text);
  if (!fm) return undefined;
  const f = fm.fields.get(key);
  if (f) return f.value === value ? undefined : { start: f.start, end: f.end, text: yamlValue(value) };
  const closeLine = text.lastIndexOf("---", fm.end - 1);
  return { start: closeLine, end: closeLine, text: `${key}: ${yamlValue(value)}\n` };
}

// ---------------------------------------------------------------------------------------------
// Streaming: the text of a job as its token notifications build it.

/** The job's text so far: appended tokens, or replaced wholesale (`replace`), and whether it is provisional. */
export class StreamedText {
  text = "";
  provisional = false;
  /** When the first non-empty text arrived (ms, `now()`), for the time-to-first-text figure. */
  firstTextAt: number | undefined;
  constructor(private readonly now: () => number = Date.now) {}

  apply(p: { text: string; provisional?: boolean; replace?: boolean }): void {
    this.text = p.replace ? p.text : this.text + p.text;
    this.provisional = p.provisional === true;
    if (this.firstTextAt === undefined && this.text.trim()) this.firstTextAt = this.now();
  }
}

/** "2 of 5 candidates" (consensus decoding progress), or undefined without candidate counts. */
export function candidatesText(c: { done: number; total: number } | undefined): string | undefined {
  return c && c.total > 1 ? `${c.done} of ${c.total} candidates` : undefined;
}

// ---------------------------------------------------------------------------------------------
// Provenance sidecar

export type DraftState = "provisional" | "streaming" | "complete" | "interrupted";

export interface DraftRecord {
  section: DraftedSection;
  jobId: string;
  model: string;
  modelVersion: string;
  time: string;
  state: DraftState;
  /** Why an interrupted draft stopped ("cancelled", "the XrayGPT daemon stopped" ...). */
  reason?: string;
  /** The text as the model drafted it (what "changed since" compares with). */
  text: string;
}

export interface SectionChange {
  section: DraftedSection;
  /** Word edits from the draft to the text now (insertions, deletions, substitutions). */
  wordEdits: number;
  draftWords: number;
}

export interface Provenance {
  schema: "xraygpt/report-provenance@1";
  /** The report file's name. */
  report: string;
  drafts: DraftRecord[];
  reviewed?: { time: string; changes: SectionChange[] };
}

/** The sidecar of a report: `x.report.md` → `x.report.provenance.json`. */
export function provenancePathFor(reportPath: string): string {
  return reportPath.replace(/\.md$/i, "") + ".provenance.json";
}

export function emptyProvenance(reportName: string): Provenance {
  return { schema: "xraygpt/report-provenance@1", report: reportName, drafts: [] };
}

/** Reads a sidecar's JSON; undefined for anything that is not one (a broken sidecar never breaks the report). */
export function parseProvenance(json: string): Provenance | undefined {
  try {
    const p = JSON.parse(json) as Partial<Provenance>;
    if (p.schema !== "xraygpt/report-provenance@1" || !Array.isArray(p.drafts)) return undefined;
    const drafts = p.drafts.filter((d): d is DraftRecord => !!d && (d.section === "Findings" || d.section === "Impression") && typeof d.text === "string" && typeof d.jobId === "string");
    return { ...(p as Provenance), drafts };
  } catch {
    return undefined;
  }
}

/** The provenance with `rec` as its section's draft (one record per section: the latest accepted draft). */
export function withDraft(p: Provenance, rec: DraftRecord): Provenance {
  const { reviewed: _reviewed, ...rest } = p;
  return { ...rest, drafts: [...p.drafts.filter((d) => d.section !== rec.section), rec] };
}

/** The `drafted:` value for a provenance: its sections in report order ("Findings, Impression"). */
export function draftedValue(p: Provenance): string {
  return REPORT_SECTIONS.filter((s) => p.drafts.some((d) => d.section === s)).join(", ");
}

/** What the user changed in each drafted section since its draft. */
export function changesSince(text: string, p: Provenance): SectionChange[] {
  return p.drafts.map((d) => {
    const now = sectionBody(text, d.section)?.text ?? "";
    const e = editDistance(d.text, now);
    return { section: d.section, wordEdits: e.distance, draftWords: e.wordsA };
  });
}

/** A drafted range to decorate: where the section's drafted text is now, and whether it was edited since. */
export interface DraftedRange {
  start: number;
  end: number;
  record: DraftRecord;
  change: SectionChange;
}

export function draftedRanges(text: string, p: Provenance): DraftedRange[] {
  const out: DraftedRange[] = [];
  const changes = changesSince(text, p);
  p.drafts.forEach((d, i) => {
    const b = sectionBody(text, d.section);
    if (!b || !b.text) return;
    out.push({ start: b.start, end: b.end, record: d, change: changes[i]! });
  });
  return out;
}

/** The hover of a drafted range, in plain words. */
export function draftHover(r: DraftedRange): string {
  const d = r.record;
  const state = d.state === "interrupted" ? `interrupted (${d.reason ?? "stopped"}); the text is what was generated before it stopped` : d.state === "complete" ? "complete" : "still generating";
  const edited = r.change.wordEdits === 0 ? "not edited since" : `edited since: ${r.change.wordEdits} word edit${r.change.wordEdits === 1 ? "" : "s"} from the ${r.change.draftWords}-word draft`;
  return `**${d.section}** drafted by ${d.model}@${d.modelVersion} at ${d.time} (job ${d.jobId.slice(0, 8)}) — ${state}; ${edited}. Review before use.`;
}

// ---------------------------------------------------------------------------------------------
// Export

/** The reviewed report as plain Markdown: title and non-empty sections, no front matter. */
export function exportMarkdown(text: string): string {
  const report = parseReport(text);
  const title = report.sections.find((s) => text.startsWith("# ", s.start));
  const lines: string[] = [];
  if (title) lines.push(text.slice(title.start, title.bodyStart).trim(), "");
  for (const s of REPORT_SECTIONS) {
    const b = sectionBody(text, s)?.text;
    if (b) lines.push(`## ${s}`, "", b, "");
  }
  return lines.join("\n");
}

/** The reviewed report as plain text: "FINDINGS:" style headings, for systems that take text only. */
export function exportPlainText(text: string): string {
  const lines: string[] = [];
  for (const s of REPORT_SECTIONS) {
    const b = sectionBody(text, s)?.text;
    if (b) lines.push(`${s.toUpperCase()}:`, b.replace(/\*\*|__|`/g, ""), "");
  }
  return lines.join("\n");
}

/** `base.ext`, else `base-2.ext`, `base-3.ext` ...: the first name not `taken`. */
export function freeName(base: string, ext: string, taken: (p: string) => boolean): string {
  for (let i = 1; ; i++) {
    const p = `${base}${i === 1 ? "" : `-${i}`}${ext}`;
    if (!taken(p)) return p;
  }
}

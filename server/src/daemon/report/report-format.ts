/**
 * The report document format, shared by the daemon's report language features and the editor
 * extension (which imports this file). A report is Markdown:
 *
 *   ---
 *   image: chest.png            (relative to the report's folder, "/" separators)
 *   model: xraygpt-mini
 *   modelVersion: 0.1.0
 *   time: 2025-01-01T12:00:00.000Z
 *   status: draft               (draft | reviewed)
 *   annotationLog: run.jsonl    (optional, relative like image: marking the report reviewed
 *                                also records its final text in this annotation log)
 *   ---
 *
 *   # Report: chest.png
 *
 *   ## Findings
 *   ## Impression
 *
 * Machine-written text sits in AI-draft blocks, delimited by HTML comments (invisible in the
 * preview). A block's end marker says whether the text is still streaming, complete, or was
 * interrupted. Text is only ever inserted: nothing here replaces what the user wrote, except the
 * front matter's `status` value and a draft block's own end marker.
 */

export type ReportStatus = "draft" | "reviewed";
export type DraftState = "streaming" | "complete" | "interrupted";
export const SECTION_NAMES = ["Findings", "Impression"] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

/** A text edit in character offsets of the document text: replace [start, end) by `text`. */
export interface OffsetEdit {
  start: number;
  end: number;
  text: string;
}

export interface FrontMatter {
  /** Offsets of the whole block, "---" lines included; end is after the closing line break. */
  start: number;
  end: number;
  fields: Map<string, { value: string; start: number; end: number }>;
}

export interface Section {
  name: string;
  /** Offset of the heading line's start. */
  start: number;
  /** Offset after the heading line (where the section's body starts). */
  bodyStart: number;
  /** Offset where the next heading of the same or higher level starts, or the document end. */
  end: number;
}

export interface DraftBlock {
  jobId: string;
  state: DraftState;
  /** Offset of the begin marker's start. */
  start: number;
  /** Offset after the end marker (or the document end when the end marker is missing). */
  end: number;
  /** Offset of the end marker's start (where streamed text is inserted); -1 when missing. */
  endMarkerStart: number;
  /** The drafted text between the markers. */
  text: string;
  model?: string;
}

export interface ParsedReport {
  frontMatter?: FrontMatter;
  sections: Section[];
  drafts: DraftBlock[];
}

export interface ReportMeta {
  /** Image path relative to the report's folder, "/" separators. */
  image: string;
  model: string;
  modelVersion: string;
  time: string;
}

export interface DraftMeta {
  jobId: string;
  model: string;
  time: string;
  /** What was drafted, shown in the block's heading. */
  title?: string;
}

const BEGIN_RE = /<!-- xraygpt:draft begin job=(\S+)((?: [a-z]+=\S+)*) -->/g;
const END_RE = /<!-- xraygpt:draft end job=(\S+) state=(streaming|complete|interrupted) -->/g;

export function endMarker(jobId: string, state: DraftState): string {
  return `<!-- xraygpt:draft end job=${jobId} state=${state} -->`;
}

function beginMarker(d: DraftMeta): string {
  return `<!-- xraygpt:draft begin job=${d.jobId} model=${d.model.replace(/\s+/g, "_")} time=${d.time} -->`;
}

export function parseFrontMatter(text: string): FrontMatter | undefined {
  const open = /^---\r?\n/.exec(text);
  if (!open) return undefined;
  const close = /^---[ \t]*(\r?\n|$)/m;
  close.lastIndex = 0;
  const rest = text.slice(open[0].length);
  const m = close.exec(rest);
  if (!m) return undefined;
  const bodyStart = open[0].length;
  const end = bodyStart + m.index + m[0].length;
  const fields = new Map<string, { value: string; start: number; end: number }>();
  const lineRe = /^([A-Za-z][\w-]*):[ \t]*(.*?)[ \t]*\r?$/gm;
  const body = text.slice(bodyStart, bodyStart + m.index);
  for (let l = lineRe.exec(body); l; l = lineRe.exec(body)) {
    const raw = l[2] ?? "";
    const valueOffset = bodyStart + l.index + l[0].indexOf(raw, l[1]!.length + 1);
    fields.set(l[1]!, { value: unquote(raw), start: valueOffset, end: valueOffset + raw.length });
  }
  return { start: 0, end, fields };
}

function unquote(v: string): string {
  if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) {
    return v.slice(1, -1);
  }
  return v;
}

/** Quotes a front-matter value when YAML would misread it. */
export function yamlValue(v: string): string {
  return /^[\w./@+-][\w ./@+:()-]*$/.test(v) && !/:\s/.test(v) && !/\s$/.test(v) ? v : JSON.stringify(v);
}

export function parseSections(text: string, from = 0): Section[] {
  const headings: { level: number; name: string; start: number; bodyStart: number }[] = [];
  const re = /^(#{1,6})[ \t]+(.+?)[ \t#]*\r?$/gm;
  re.lastIndex = from;
  let inFence = false;
  const fenceRe = /^(```|~~~)/;
  let lineStart = from;
  // Walk lines to skip fenced code blocks.
  while (lineStart <= text.length) {
    const nl = text.indexOf("\n", lineStart);
    const lineEnd = nl === -1 ? text.length : nl;
    const line = text.slice(lineStart, lineEnd);
    if (fenceRe.test(line)) inFence = !inFence;
    else if (!inFence) {
      re.lastIndex = lineStart;
      const m = re.exec(text);
      if (m && m.index === lineStart) {
        headings.push({ level: m[1]!.length, name: m[2]!, start: lineStart, bodyStart: nl === -1 ? text.length : nl + 1 });
      }
    }
    if (nl === -1) break;
    lineStart = nl + 1;
  }
  return headings.map((h, i) => {
    let end = text.length;
    for (let j = i + 1; j < headings.length; j++) {
      if (headings[j]!.level <= h.level) {
        end = headings[j]!.start;
        break;
      }
    }
    return { name: h.name, start: h.start, bodyStart: h.bodyStart, end };
  });
}

export function parseDrafts(text: string): DraftBlock[] {
  const drafts: DraftBlock[] = [];
  BEGIN_RE.lastIndex = 0;
  for (let b = BEGIN_RE.exec(text); b; b = BEGIN_RE.exec(text)) {
    const jobId = b[1]!;
    const attrs = b[2] ?? "";
    const model = /model=(\S+)/.exec(attrs)?.[1];
    const bodyStart = b.index + b[0].length;
    END_RE.lastIndex = bodyStart;
    let e = END_RE.exec(text);
    while (e && e[1] !== jobId) e = END_RE.exec(text);
    const nextBegin = text.indexOf("<!-- xraygpt:draft begin ", bodyStart);
    if (e && (nextBegin === -1 || e.index < nextBegin)) {
      drafts.push({
        jobId,
        state: e[2] as DraftState,
        start: b.index,
        end: e.index + e[0].length,
        endMarkerStart: e.index,
        text: text.slice(bodyStart, e.index).trim(),
        ...(model ? { model } : {}),
      });
    } else {
      const end = nextBegin === -1 ? text.length : nextBegin;
      drafts.push({ jobId, state: "interrupted", start: b.index, end, endMarkerStart: -1, text: text.slice(bodyStart, end).trim(), ...(model ? { model } : {}) });
    }
  }
  return drafts;
}

export function parseReport(text: string): ParsedReport {
  const frontMatter = parseFrontMatter(text);
  return { ...(frontMatter ? { frontMatter } : {}), sections: parseSections(text, frontMatter?.end ?? 0), drafts: parseDrafts(text) };
}

export function findSection(report: ParsedReport, name: string): Section | undefined {
  const want = name.toLowerCase();
  return report.sections.find((s) => s.name.trim().toLowerCase() === want);
}

/** The text of a new report (front matter + title + empty Findings / Impression sections). */
export function newReportText(meta: ReportMeta, title: string): string {
  return [
    "---",
    `image: ${yamlValue(meta.image)}`,
    `model: ${yamlValue(meta.model)}`,
    `modelVersion: ${yamlValue(meta.modelVersion)}`,
    `time: ${meta.time}`,
    "status: draft",
    "---",
    "",
    `# Report: ${title}`,
    "",
    "## Findings",
    "",
    "## Impression",
    "",
  ].join("\n");
}

/** A draft block: begin marker, an empty line where streamed text goes, end marker. */
export function draftBlockText(d: DraftMeta): string {
  return `${beginMarker(d)}\n\n${endMarker(d.jobId, "streaming")}\n`;
}

function separator(text: string): string {
  return text.length === 0 || text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n";
}

/** Appends a dated AI-draft section at the end of the document: nothing existing is touched. */
export function appendDraftEdit(text: string, d: DraftMeta): OffsetEdit {
  const note = `_${d.title ?? "Summary"} drafted by ${d.model}; review before use._`;
  return { start: text.length, end: text.length, text: `${separator(text)}## AI draft ${d.time}\n\n${note}\n\n${draftBlockText(d)}` };
}

/**
 * Inserts a draft block at the end of a section's body (before the next heading), creating the
 * section at the end of the document when it does not exist.
 */
export function insertDraftInSectionEdit(text: string, section: SectionName, d: DraftMeta): OffsetEdit {
  const report = parseReport(text);
  const s = findSection(report, section);
  const block = draftBlockText(d);
  if (!s) return { start: text.length, end: text.length, text: `${separator(text)}## ${section}\n\n${block}` };
  // Insert after the section's last non-blank line; the blank lines before the next heading stay.
  let at = s.end;
  while (at > s.bodyStart && /\s/.test(text[at - 1]!)) at--;
  const before = at === s.bodyStart ? "\n" : "\n\n";
  const after = s.end === text.length ? "" : "\n";
  return { start: at, end: at, text: `${before}${block}${after}` };
}

/** The edit that appends streamed text to job `jobId`'s block (before the line break that precedes its end marker). */
export function streamInsertEdit(text: string, jobId: string, token: string): OffsetEdit | undefined {
  const at = text.indexOf(endMarker(jobId, "streaming"));
  if (at === -1) return undefined;
  const pos = text[at - 1] === "\n" ? at - 1 : at;
  return { start: pos, end: pos, text: token };
}

/** Closes a streaming block: the end marker says complete or interrupted (with the reason). */
export function finishDraftEdit(text: string, jobId: string, state: "complete" | "interrupted", reason?: string): OffsetEdit | undefined {
  const marker = endMarker(jobId, "streaming");
  const at = text.indexOf(marker);
  if (at === -1) return undefined;
  const note = state === "interrupted" ? `\n> **Interrupted:** ${(reason ?? "generation stopped").replace(/\s+/g, " ")}. The text above is partial.\n\n` : "";
  const lead = text[at - 1] === "\n" ? "" : "\n";
  return { start: at, end: at + marker.length, text: `${lead}${note}${endMarker(jobId, state)}` };
}

/** Sets the front matter's status (adding the field when missing); undefined without front matter. */
export function setStatusEdit(text: string, status: ReportStatus): OffsetEdit | undefined {
  const fm = parseFrontMatter(text);
  if (!fm) return undefined;
  const f = fm.fields.get("status");
  if (f) return { start: f.start, end: f.end, text: status };
  const closeLine = text.lastIndexOf("---", fm.end - 1);
  return { start: closeLine, end: closeLine, text: `status: ${status}\n` };
}

export function applyEdit(text: string, e: OffsetEdit): string {
  return text.slice(0, e.start) + e.text + text.slice(e.end);
}

/**
 * Diagnostics of a report document, with their quick fixes, as a pure function of the text, the
 * image's existence and the vision model's findings. Offsets are character offsets of the text.
 */
import type { Findings } from "@xraygpt/protocol";
import { extractLabels } from "../../metrics/label-extractor.js";
import type { Observation } from "../../metrics/chexpert.js";
import { findTerms, probabilityOf, sentenceAround } from "./finding-terms.js";
import { findSection, parseReport, SECTION_NAMES, setStatusEdit, type OffsetEdit, type ParsedReport } from "./report-format.js";

export type ProblemCode = "missing-image" | "broken-image" | "missing-section" | "unreviewed-draft" | "contradiction";
export type Severity = "error" | "warning" | "information";

export interface ReportFix {
  title: string;
  edit: OffsetEdit;
}

export interface ReportProblem {
  code: ProblemCode;
  severity: Severity;
  start: number;
  end: number;
  message: string;
  fix?: ReportFix;
}

export interface ReportInput {
  text: string;
  /** "none" when the report names no image. */
  image: "ok" | "missing" | "none";
  /** The vision model's findings for the report's image, when known. */
  findings?: Findings;
  /** Model id shown in messages. */
  model?: string;
}

/** A negated finding whose probability is at least this contradicts the model. */
export const CONTRADICTION_THRESHOLD = 0.8;

export function analyzeReport(input: ReportInput, report: ParsedReport = parseReport(input.text)): ReportProblem[] {
  const { text } = input;
  const problems: ReportProblem[] = [];
  const fm = report.frontMatter;
  const imageField = fm?.fields.get("image");
  if (!imageField || imageField.value === "") {
    const at = fm ? { start: 0, end: 3 } : { start: 0, end: Math.max(0, text.indexOf("\n")) };
    problems.push({ code: "missing-image", severity: "error", ...at, message: "The report names no image: add `image: <path>` to its front matter." });
  } else if (input.image === "missing") {
    problems.push({ code: "broken-image", severity: "error", start: imageField.start, end: imageField.end, message: `The image "${imageField.value}" does not exist (the path is relative to the report's folder).` });
  }

  for (const name of SECTION_NAMES) {
    if (findSection(report, name)) continue;
    const at = text.length;
    const sep = text.length === 0 || text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n";
    problems.push({
      code: "missing-section",
      severity: "warning",
      start: fm ? fm.start : 0,
      end: fm ? Math.min(3, text.length) : Math.max(0, text.indexOf("\n")),
      message: `The report has no "${name}" section.`,
      fix: { title: `Add a "${name}" section`, edit: { start: at, end: at, text: `${sep}## ${name}\n\n` } },
    });
  }

  const status = fm?.fields.get("status")?.value;
  if (status !== "reviewed") {
    const fix = setStatusEdit(text, "reviewed");
    for (const d of report.drafts) {
      if (d.state === "streaming") continue;
      problems.push({
        code: "unreviewed-draft",
        severity: "information",
        start: d.start,
        end: text.indexOf("\n", d.start) === -1 ? d.end : text.indexOf("\n", d.start),
        message: `AI-drafted text (${d.model ?? "model"}${d.state === "interrupted" ? ", interrupted" : ""}) is not yet reviewed: read it, edit it, then mark the report reviewed.`,
        ...(fix ? { fix: { title: "Mark report as reviewed", edit: fix } } : {}),
      });
    }
    // Sections drafted in place (the editor lists them in `drafted:`; their provenance is in the report's sidecar).
    const drafted = fm?.fields.get("drafted");
    if (drafted?.value) {
      problems.push({
        code: "unreviewed-draft",
        severity: "information",
        start: drafted.start,
        end: drafted.end,
        message: `AI-drafted text (${drafted.value}) is not yet reviewed: read it, edit it, then mark the report reviewed.`,
        ...(fix ? { fix: { title: "Mark report as reviewed", edit: fix } } : {}),
      });
    }
  }

  if (input.findings) {
    const bodyStart = fm?.end ?? 0;
    for (const t of findTerms(text)) {
      if (t.start < bodyStart || t.negationStart === undefined) continue;
      const p = probabilityOf(input.findings.labels, t.label);
      if (p === undefined || p < CONTRADICTION_THRESHOLD) continue;
      // The CheXpert labeler decides whether the sentence really states the finding is absent.
      const sentence = sentenceAround(text, t.start);
      if (extractLabels(sentence)[t.label as Observation] !== 0) continue;
      problems.push({
        code: "contradiction",
        severity: "warning",
        start: t.negationStart,
        end: t.end,
        message: `"${text.slice(t.negationStart, t.end)}" contradicts the vision model${input.model ? ` (${input.model})` : ""}: ${t.label} p=${p.toFixed(2)}.`,
        fix: { title: `Rewrite as "possible ${t.term}"`, edit: { start: t.negationStart, end: t.end, text: `possible ${t.term}` } },
      });
    }
  }
  return problems;
}

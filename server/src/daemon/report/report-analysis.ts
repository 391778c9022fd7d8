/**
 * Diagnostics of a report document, with their quick fixes, as a pure function of the text, the
 * image's existence and the vision model's findings. Offsets are character offsets of the text.
 */
import type { Findings } from "@xraygpt/protocol";
import { extractLabels } from "../../metrics/label-extractor.js";
import type { Observation } from "../../metrics/chexpert.js";
import { ACUTE_FINDINGS, saysNothingAbnormal } from "../../host/consensus.js";
import { findTerms, probabilityOf, sentenceAround } from "./finding-terms.js";
import { findSection, parseReport, SECTION_NAMES, setStatusEdit, type OffsetEdit, type ParsedReport } from "./report-format.js";
import { CHOOSE_IMAGE_COMMAND } from "./report-image.js";

export type ProblemCode = "missing-image" | "broken-image" | "missing-section" | "unreviewed-draft" | "contradiction" | "normal-beside-finding";
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
  /** A quick fix that runs an editor command (arguments: the report's URI) instead of an edit. */
  command?: { title: string; command: string };
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

const CHOOSE_IMAGE = { title: "Choose image…", command: CHOOSE_IMAGE_COMMAND };

/**
 * `replacement` put at [start, end) of `text` in sentence case: capitalised where a sentence
 * starts (document or line start, or after . ! ? ;), else lower case as written.
 */
export function inSentenceCase(text: string, start: number, replacement: string): string {
  const before = text.slice(0, start).replace(/[ \t]+$/, "");
  const startsSentence = before === "" || /[.!?;:\n]$/.test(before) || /(^|\n)\s*([-*+]|\d+[.)])$/.test(before);
  const first = replacement.charAt(0);
  return (startsSentence ? first.toUpperCase() : first.toLowerCase()) + replacement.slice(1);
}

/** The sentences of [from, to) of `text`, each with its offsets (ends after its full stop). */
function sentencesIn(text: string, from: number, to: number): { start: number; end: number; text: string }[] {
  const out: { start: number; end: number; text: string }[] = [];
  const re = /[^\s.!?;][^.!?;\n]*(?:\.(?=\d)[^.!?;\n]*)*[.!?;]?/g;
  const body = text.slice(from, to);
  for (let m = re.exec(body); m; m = re.exec(body)) out.push({ start: from + m.index, end: from + m.index + m[0].length, text: m[0] });
  return out;
}

/** "pneumonia", "pneumonia and edema", "pneumonia, edema and pneumothorax". */
function listOf(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)!}`;
}

export function analyzeReport(input: ReportInput, report: ParsedReport = parseReport(input.text)): ReportProblem[] {
  const { text } = input;
  const problems: ReportProblem[] = [];
  const fm = report.frontMatter;
  const imageField = fm?.fields.get("image");
  if (!imageField || imageField.value === "") {
    const at = fm ? { start: 0, end: 3 } : { start: 0, end: Math.max(0, text.indexOf("\n")) };
    problems.push({ code: "missing-image", severity: "error", ...at, message: "The report does not say which image it describes: choose one, or add `image: <path>` to its front matter.", command: CHOOSE_IMAGE });
  } else if (input.image === "missing") {
    problems.push({
      code: "broken-image",
      severity: "error",
      start: imageField.start,
      end: imageField.end,
      message: `There is no image at "${imageField.value}" (the path is relative to the report's folder): choose the image this report describes.`,
      command: CHOOSE_IMAGE,
    });
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
      message: `The report has no ${name} section.`,
      fix: { title: `Add the ${name} section`, edit: { start: at, end: at, text: `${sep}## ${name}\n\n` } },
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
      const rewrite = inSentenceCase(text, t.negationStart, `possible ${t.term.toLowerCase()}`);
      problems.push({
        code: "contradiction",
        severity: "warning",
        start: t.negationStart,
        end: t.end,
        message: `"${text.slice(t.negationStart, t.end)}", but the vision model${input.model ? ` (${input.model})` : ""} finds ${t.label.toLowerCase()} likely (p = ${p.toFixed(2)}).`,
        fix: { title: `Rewrite as "${rewrite}"`, edit: { start: t.negationStart, end: t.end, text: rewrite } },
      });
    }
    problems.push(...normalBesideFinding(text, report, input.findings, input.model));
  }
  return problems;
}

/**
 * A whole-chest normal statement ("No acute disease.", "Normal chest.") in the Findings or
 * Impression while the vision model gives an acute finding (the consensus check's list) at least
 * CONTRADICTION_THRESHOLD. The fix states the finding as possible instead.
 */
function normalBesideFinding(text: string, report: ParsedReport, findings: Findings, model: string | undefined): ReportProblem[] {
  const acute = ACUTE_FINDINGS.flatMap((label) => {
    const p = probabilityOf(findings.labels, label);
    return p !== undefined && p >= CONTRADICTION_THRESHOLD ? [{ label, p }] : [];
  });
  if (acute.length === 0) return [];
  const names = listOf(acute.map((a) => a.label.toLowerCase()));
  const given = acute.map((a) => `${a.label.toLowerCase()} p = ${a.p.toFixed(2)}`).join(", ");
  const problems: ReportProblem[] = [];
  for (const name of ["Findings", "Impression"]) {
    const s = findSection(report, name);
    if (!s) continue;
    for (const sentence of sentencesIn(text, s.bodyStart, s.end)) {
      if (sentence.text.startsWith("<!--") || !saysNothingAbnormal(sentence.text)) continue;
      const rewrite = inSentenceCase(text, sentence.start, `Possible ${names}.`);
      problems.push({
        code: "normal-beside-finding",
        severity: "warning",
        start: sentence.start,
        end: sentence.end,
        message: `"${sentence.text}" says the chest is normal, but the vision model${model ? ` (${model})` : ""} finds ${names} likely (${given}).`,
        fix: { title: `Rewrite as "${rewrite}"`, edit: { start: sentence.start, end: sentence.end, text: rewrite } },
      });
    }
  }
  return problems;
}

/** Renders an evaluation as a terminal table, Markdown and JSON. */
import { OBSERVATIONS } from "../metrics/chexpert.js";
import type { EvaluationReport } from "@xraygpt/protocol";
import type { MatchResult, Scores } from "./evaluate.js";

/** The report's type is the protocol's: the daemon sends it to the editor as it is. */
export type { EvaluationReport };

export function buildReport(
  args: Omit<EvaluationReport, "tool" | "createdAt" | "counts" | "scores">,
  match: MatchResult,
  extra: { failedPredictions: number; skippedLines: number },
  scores: Scores,
): EvaluationReport {
  return {
    tool: "xraygpt evaluate",
    createdAt: new Date().toISOString(),
    ...args,
    counts: {
      pairs: match.pairs.length,
      unmatchedPredictions: match.unmatchedPredictions,
      referencesWithoutPrediction: match.referencesWithoutPrediction,
      emptyReferences: match.emptyReferences,
      ...extra,
    },
    scores,
  };
}

const num = (v: number | null | undefined) => (v === null || v === undefined ? "–" : v.toFixed(4));

function metricRows(r: EvaluationReport): string[][] {
  return r.scores.metrics.map((m) => [m.name, num(m.value), m.ci95 ? `[${num(m.ci95.low)}, ${num(m.ci95.high)}]` : "–"]);
}

function labelRows(r: EvaluationReport): string[][] {
  return OBSERVATIONS.map((o) => {
    const s = r.scores.labels.perLabel[o]!;
    return [o, num(s.precision), num(s.recall), num(s.f1), String(s.support), String(s.tp + s.fp)];
  });
}

function countsLine(r: EvaluationReport): string {
  const c = r.counts;
  return (
    `${c.pairs} report pairs; ${c.unmatchedPredictions} predictions without a reference, ` +
    `${c.referencesWithoutPrediction} references without a prediction, ${c.emptyReferences} empty references left out, ` +
    `${c.failedPredictions} failed annotations and ${c.skippedLines} unusable lines skipped`
  );
}

function optionsLine(r: EvaluationReport): string {
  const o = r.scores.options;
  return `ROUGE stemming ${o.stem ? "on" : "off"}; uncertain labels count as ${o.uncertain}; 95% percentile bootstrap, ${o.bootstrap} resamples, seed ${o.seed}`;
}

function plainTable(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, j) => Math.max(...all.map((r) => r[j]!.length)));
  const line = (r: string[]) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function markdownTable(rows: string[][], header: string[]): string {
  return [`| ${header.join(" | ")} |`, `|${header.map((_, j) => (j === 0 ? "---" : "---:")).join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

const METRIC_HEADER = ["Metric", "Value", "95% CI"];
const LABEL_HEADER = ["Observation", "Precision", "Recall", "F1", "Ref +", "Pred +"];

export function formatText(r: EvaluationReport): string {
  return [
    `Predictions ${r.predictions} vs references ${r.references}`,
    countsLine(r),
    optionsLine(r),
    "",
    plainTable(metricRows(r), METRIC_HEADER),
    "",
    plainTable(labelRows(r), LABEL_HEADER),
    "",
  ].join("\n");
}

export function formatMarkdown(r: EvaluationReport): string {
  return [
    "# XrayGPT evaluation",
    "",
    `- Predictions: \`${r.predictions}\``,
    `- References: \`${r.references}\` (id column \`${r.reference.idColumn}\`, text \`${r.reference.textColumns.join(" + ")}\`${Object.keys(r.reference.where).length ? `, where ${Object.entries(r.reference.where).map(([k, v]) => `${k} = ${v}`).join(", ")}` : ""})`,
    `- ${countsLine(r)}`,
    `- ${optionsLine(r)}`,
    `- Created ${r.createdAt}`,
    "",
    "## Metrics",
    "",
    markdownTable(metricRows(r), METRIC_HEADER),
    "",
    "## CheXpert labels (rule-based extractor on both sides)",
    "",
    markdownTable(labelRows(r), LABEL_HEADER),
    "",
  ].join("\n");
}

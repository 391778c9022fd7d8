/**
 * Condition stage (findings-text): the vision model's label probabilities → the findings line
 * placed at `{findings}` in the prompt template, so any instruct LLM is grounded in the image.
 *
 * Exact format (the bundled model is trained on it; see models/xraygpt-mini/train):
 *   "View: frontal. Assessed: Pneumonia positive, Lung Opacity negative."
 * - "View: <label>." only when the model has a view head (its most probable label, lowercase).
 * - Only labels the vision model assessed are listed, in manifest order, so a finding the
 *   model never looked at is never stated as absent. Status: "positive" when p ≥ threshold,
 *   "uncertain" when p falls in the manifest's optional uncertain band [low, high), else
 *   "negative". No labels: "Assessed: none."
 */
import type { Findings, LabelProbability } from "@xraygpt/protocol";
import type { Manifest } from "../models/manifest.js";

export type Status = "positive" | "negative" | "uncertain";

export function labelStatus(p: number, conditioning: Manifest["conditioning"]): Status {
  const band = conditioning.uncertain;
  if (band && p >= band[0] && p < band[1]) return "uncertain";
  return p >= (conditioning.threshold ?? 0.5) ? "positive" : "negative";
}

/** What the findings line gives as present (positive), absent (negative) and uncertain. */
export function expectedFindings(labels: LabelProbability[], conditioning: Manifest["conditioning"]): { present: string[]; absent: string[]; uncertain: string[] } {
  const status = labels.map((l) => [l.name, labelStatus(l.probability, conditioning)] as const);
  const having = (s: Status) => status.filter(([, x]) => x === s).map(([n]) => n);
  return { present: having("positive"), absent: having("negative"), uncertain: having("uncertain") };
}

export function findingsLine(labels: LabelProbability[], view: LabelProbability[] | undefined, conditioning: Manifest["conditioning"]): string {
  const parts: string[] = [];
  if (view && view.length > 0) {
    const top = view.reduce((a, b) => (b.probability > a.probability ? b : a));
    parts.push(`View: ${top.name.toLowerCase()}.`);
  }
  const entries = labels.map((l) => `${l.name} ${labelStatus(l.probability, conditioning)}`);
  parts.push(`Assessed: ${entries.length ? entries.join(", ") : "none"}.`);
  return parts.join(" ");
}

/** Fill a prompt template's `{findings}` and `{prompt}` placeholders. */
export function renderTemplate(template: string, values: { findings?: string; prompt: string }): string {
  return template.replace(/\{(findings|prompt)\}/g, (_, key: "findings" | "prompt") => values[key] ?? "").replace(/ {2,}/g, " ");
}

/** The first turn's prompt text for a findings-text model. */
export function firstTurnPrompt(manifest: Manifest, findings: Findings, prompt: string): string {
  return renderTemplate(manifest.prompt.template, { findings: findings.conditioningText ?? "", prompt });
}

/** Text to append for a follow-up turn: the previous answer, then the next question. */
export function followUpText(manifest: Manifest, previousAnswer: string, prompt: string): string {
  const turn = manifest.prompt.turnTemplate ?? " ###Patient: {prompt} ###Doctor:";
  return ` ${previousAnswer.trim()}${renderTemplate(turn, { prompt })}`;
}

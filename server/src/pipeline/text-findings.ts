/**
 * Findings of a model without a vision classifier (a multimodal model used as it is): the
 * observations the project's label extractor reads from the text the model generated, marked as
 * such (`source: "text"`): stated → probability 1, uncertain → 0.5, negated → 0; not mentioned: absent.
 */
import type { Findings } from "@xraygpt/protocol";
import { extractLabels } from "../metrics/label-extractor.js";
import { OBSERVATIONS } from "../metrics/chexpert.js";

export function textFindings(text: string): Findings {
  const labels = extractLabels(text);
  return {
    labels: OBSERVATIONS.filter((o) => labels[o] !== null).map((o) => ({ name: o, probability: labels[o] === 1 ? 1 : labels[o] === -1 ? 0.5 : 0 })),
    source: "text",
  };
}

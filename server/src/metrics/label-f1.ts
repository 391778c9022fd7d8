/**
 * Clinical-efficacy scores: precision / recall / F1 of predicted vs reference CheXpert labels,
 * positive class = 1. Uncertain (-1) counts as positive by default (CheXpert's "U-ones"
 * convention); `uncertain: "negative"` counts it as negative instead. 0 and null are negative.
 * Micro: TP/FP/FN summed over every label of every report. Macro: mean over labels of the
 * per-label F1 (and precision / recall), skipping labels where it is undefined (no positive in
 * either predictions or references for F1; a zero denominator for precision / recall).
 */
import { OBSERVATIONS, type Labels, type LabelValue, type Observation } from "./chexpert.js";

export interface LabelF1Options {
  uncertain?: "positive" | "negative";
  /** Observations scored (default all 14). */
  observations?: readonly Observation[];
}

export interface LabelScore {
  tp: number;
  fp: number;
  fn: number;
  /** Reports whose reference is positive. */
  support: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export interface LabelF1Result {
  perLabel: Record<string, LabelScore>;
  micro: { precision: number | null; recall: number | null; f1: number | null };
  macro: { precision: number | null; recall: number | null; f1: number | null };
  uncertain: "positive" | "negative";
  n: number;
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

function score(tp: number, fp: number, fn: number, support: number): LabelScore {
  return { tp, fp, fn, support, precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn), f1: ratio(2 * tp, 2 * tp + fp + fn) };
}

function mean(values: Array<number | null>): number | null {
  const defined = values.filter((v): v is number => v !== null);
  return defined.length === 0 ? null : defined.reduce((s, v) => s + v, 0) / defined.length;
}

export function labelF1(predLabels: Labels[], refLabels: Labels[], options: LabelF1Options = {}): LabelF1Result {
  if (predLabels.length !== refLabels.length) throw new RangeError(`labelF1: ${predLabels.length} predictions but ${refLabels.length} references`);
  const uncertain = options.uncertain ?? "positive";
  const observations = options.observations ?? OBSERVATIONS;
  const isPositive = (v: LabelValue) => v === 1 || (v === -1 && uncertain === "positive");
  const perLabel: Record<string, LabelScore> = {};
  let TP = 0;
  let FP = 0;
  let FN = 0;
  for (const o of observations) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    predLabels.forEach((p, i) => {
      const a = isPositive(p[o]);
      const b = isPositive(refLabels[i]![o]);
      if (a && b) tp++;
      else if (a) fp++;
      else if (b) fn++;
    });
    perLabel[o] = score(tp, fp, fn, tp + fn);
    TP += tp;
    FP += fp;
    FN += fn;
  }
  const micro = score(TP, FP, FN, TP + FN);
  const scores = Object.values(perLabel);
  return {
    perLabel,
    micro: { precision: micro.precision, recall: micro.recall, f1: micro.f1 },
    macro: { precision: mean(scores.map((s) => s.precision)), recall: mean(scores.map((s) => s.recall)), f1: mean(scores.map((s) => s.f1)) },
    uncertain,
    n: predLabels.length,
  };
}

/**
 * ROUGE-N and ROUGE-L with the semantics of Google's `rouge-score` (rouge_scorer.py):
 * n-gram overlap = sum over reference n-grams of min(count in reference, count in prediction),
 * precision = overlap / max(#prediction n-grams, 1), recall = overlap / max(#reference n-grams, 1);
 * ROUGE-L is the LCS of the whole token sequences (not the summary-level "Lsum"), and is 0 when
 * either side has no tokens. F = 2PR / (P + R), 0 when P + R = 0.
 */
import { tokenizeRouge, type TokenizeOptions } from "./tokenize.js";

export interface PRF {
  precision: number;
  recall: number;
  f: number;
}

export function fMeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function ngramCounts(tokens: string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(" ");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function total(counts: Map<string, number>): number {
  let s = 0;
  for (const v of counts.values()) s += v;
  return s;
}

/** ROUGE-N on token arrays (prediction, reference). */
export function rougeNTokens(pred: string[], ref: string[], n: number): PRF {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`ROUGE-N needs a positive integer n, got ${n}`);
  const p = ngramCounts(pred, n);
  const r = ngramCounts(ref, n);
  let overlap = 0;
  for (const [gram, count] of r) overlap += Math.min(count, p.get(gram) ?? 0);
  const precision = overlap / Math.max(total(p), 1);
  const recall = overlap / Math.max(total(r), 1);
  return { precision, recall, f: fMeasure(precision, recall) };
}

/** Length of the longest common subsequence. */
export function lcsLength(a: string[], b: string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/** ROUGE-L on token arrays (prediction, reference). */
export function rougeLTokens(pred: string[], ref: string[]): PRF {
  if (pred.length === 0 || ref.length === 0) return { precision: 0, recall: 0, f: 0 };
  const lcs = lcsLength(pred, ref);
  const precision = lcs / pred.length;
  const recall = lcs / ref.length;
  return { precision, recall, f: fMeasure(precision, recall) };
}

export function rougeN(pred: string, ref: string, n: number, options: TokenizeOptions = {}): PRF {
  return rougeNTokens(tokenizeRouge(pred, options), tokenizeRouge(ref, options), n);
}

export function rougeL(pred: string, ref: string, options: TokenizeOptions = {}): PRF {
  return rougeLTokens(tokenizeRouge(pred, options), tokenizeRouge(ref, options));
}

export interface RougeSentenceScores {
  rouge1: PRF;
  rouge2: PRF;
  rougeL: PRF;
}

export interface RougeCorpusScores {
  /** One entry per (prediction, reference) pair, in input order. */
  perSentence: RougeSentenceScores[];
  /** Arithmetic mean over pairs of each precision / recall / F (0 for an empty corpus). */
  mean: RougeSentenceScores;
}

function meanPRF(list: PRF[]): PRF {
  const n = list.length || 1;
  return {
    precision: list.reduce((s, x) => s + x.precision, 0) / n,
    recall: list.reduce((s, x) => s + x.recall, 0) / n,
    f: list.reduce((s, x) => s + x.f, 0) / n,
  };
}

/** Sentence-level ROUGE-1/2/L for each pair and their corpus mean. */
export function rougeScores(preds: string[], refs: string[], options: TokenizeOptions = {}): RougeCorpusScores {
  if (preds.length !== refs.length) throw new RangeError(`rougeScores: ${preds.length} predictions but ${refs.length} references`);
  const perSentence = preds.map((pred, i) => {
    const p = tokenizeRouge(pred, options);
    const r = tokenizeRouge(refs[i]!, options);
    return { rouge1: rougeNTokens(p, r, 1), rouge2: rougeNTokens(p, r, 2), rougeL: rougeLTokens(p, r) };
  });
  return {
    perSentence,
    mean: {
      rouge1: meanPRF(perSentence.map((s) => s.rouge1)),
      rouge2: meanPRF(perSentence.map((s) => s.rouge2)),
      rougeL: meanPRF(perSentence.map((s) => s.rougeL)),
    },
  };
}

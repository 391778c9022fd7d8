/**
 * Corpus BLEU exactly as NLTK 3.8's `nltk.translate.bleu_score.corpus_bleu` with its default
 * (no) smoothing: clipped n-gram matches and hypothesis n-gram counts are summed over the corpus
 * (each hypothesis's denominator is max(1, #n-grams)), the brevity penalty uses the sum over
 * hypotheses of the closest reference length (ties → the shorter reference), BLEU = 0 when there
 * is no unigram match, and a zero higher-order precision enters the log as sys.float_info.min
 * (so it drives the score to ~0, as NLTK does). Inputs are token arrays; `bleuFromText` tokenizes
 * with `tokenizeRouge` (lowercase, non-alphanumerics → spaces, no stemming).
 * Golden values from Debian's python3-nltk: golden/bleu.json.
 */
import { fsum } from "./fsum.js";
import { tokenizeRouge } from "./tokenize.js";

const FLOAT_MIN = 2.2250738585072014e-308; // Python's sys.float_info.min

function ngramCounts(tokens: string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  if (tokens.length < n) return counts;
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join("\u0000");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** NLTK's modified_precision: [clipped matches, max(1, hypothesis n-grams)]. */
export function modifiedPrecision(references: string[][], hypothesis: string[], n: number): [number, number] {
  const counts = ngramCounts(hypothesis, n);
  const maxCounts = new Map<string, number>();
  for (const ref of references) {
    const refCounts = ngramCounts(ref, n);
    for (const gram of counts.keys()) maxCounts.set(gram, Math.max(maxCounts.get(gram) ?? 0, refCounts.get(gram) ?? 0));
  }
  let numerator = 0;
  let hypTotal = 0;
  for (const [gram, count] of counts) {
    numerator += Math.min(count, maxCounts.get(gram) ?? 0);
    hypTotal += count;
  }
  return [numerator, Math.max(1, hypTotal)];
}

export function closestRefLength(references: string[][], hypLength: number): number {
  let best = Infinity;
  for (const ref of references) {
    const len = ref.length;
    const d = Math.abs(len - hypLength);
    const bd = Math.abs(best - hypLength);
    if (d < bd || (d === bd && len < best)) best = len;
  }
  if (best === Infinity) throw new RangeError("BLEU: a hypothesis has no reference");
  return best;
}

export function brevityPenalty(closestRefLen: number, hypLen: number): number {
  if (hypLen > closestRefLen) return 1;
  if (hypLen === 0) return 0;
  return Math.exp(1 - closestRefLen / hypLen);
}

/** What one (references, hypothesis) pair adds to corpus BLEU, for n = 1..maxN. */
export interface BleuPairStats {
  /** Clipped matches per order (index 0 = unigrams). */
  numerators: number[];
  /** max(1, hypothesis n-grams) per order. */
  denominators: number[];
  hypLength: number;
  closestRefLength: number;
}

export function bleuPairStats(references: string[][], hypothesis: string[], maxN = 4): BleuPairStats {
  const numerators: number[] = [];
  const denominators: number[] = [];
  for (let i = 1; i <= maxN; i++) {
    const [num, den] = modifiedPrecision(references, hypothesis, i);
    numerators.push(num);
    denominators.push(den);
  }
  return { numerators, denominators, hypLength: hypothesis.length, closestRefLength: closestRefLength(references, hypothesis.length) };
}

/** Corpus BLEU from per-pair statistics (pairs may repeat: bootstrap resamples). */
export function corpusBleuFromStats(stats: readonly BleuPairStats[], weights: number[] = [0.25, 0.25, 0.25, 0.25]): number {
  if (weights.length === 0) throw new RangeError("corpusBleu: weights must not be empty");
  const maxN = weights.length;
  const numerators = new Array<number>(maxN).fill(0);
  const denominators = new Array<number>(maxN).fill(0);
  let hypLengths = 0;
  let refLengths = 0;
  for (const s of stats) {
    if (s.numerators.length < maxN) throw new RangeError(`corpusBleu: statistics for ${s.numerators.length}-grams, weights need ${maxN}`);
    for (let i = 0; i < maxN; i++) {
      numerators[i]! += s.numerators[i]!;
      denominators[i]! += s.denominators[i]!;
    }
    hypLengths += s.hypLength;
    refLengths += s.closestRefLength;
  }
  const bp = brevityPenalty(refLengths, hypLengths);
  if (numerators[0] === 0) return 0;
  const logs: number[] = [];
  for (let i = 0; i < maxN; i++) {
    const p = numerators[i] !== 0 ? numerators[i]! / denominators[i]! : FLOAT_MIN;
    logs.push(weights[i]! * Math.log(p));
  }
  return bp * Math.exp(fsum(logs));
}

/**
 * @param listOfReferences one array of reference token arrays per hypothesis
 * @param hypotheses hypothesis token arrays
 * @param weights n-gram weights (default BLEU-4: 0.25 × 4)
 */
export function corpusBleu(listOfReferences: string[][][], hypotheses: string[][], weights: number[] = [0.25, 0.25, 0.25, 0.25]): number {
  if (listOfReferences.length !== hypotheses.length) {
    throw new RangeError(`corpusBleu: ${hypotheses.length} hypotheses but ${listOfReferences.length} reference sets`);
  }
  if (weights.length === 0) throw new RangeError("corpusBleu: weights must not be empty");
  return corpusBleuFromStats(
    hypotheses.map((hyp, k) => bleuPairStats(listOfReferences[k]!, hyp, weights.length)),
    weights,
  );
}

export interface BleuScores {
  bleu1: number;
  bleu2: number;
  bleu3: number;
  bleu4: number;
}

export const BLEU_WEIGHTS: Record<keyof BleuScores, number[]> = {
  bleu1: [1],
  bleu2: [0.5, 0.5],
  bleu3: [1 / 3, 1 / 3, 1 / 3],
  bleu4: [0.25, 0.25, 0.25, 0.25],
};

/** BLEU-1..4 on token arrays (cumulative, uniform weights, as `corpus_bleu(weights=(1/n,)*n)`). */
export function bleuScores(listOfReferences: string[][][], hypotheses: string[][]): BleuScores {
  return {
    bleu1: corpusBleu(listOfReferences, hypotheses, BLEU_WEIGHTS.bleu1),
    bleu2: corpusBleu(listOfReferences, hypotheses, BLEU_WEIGHTS.bleu2),
    bleu3: corpusBleu(listOfReferences, hypotheses, BLEU_WEIGHTS.bleu3),
    bleu4: corpusBleu(listOfReferences, hypotheses, BLEU_WEIGHTS.bleu4),
  };
}

export const bleu1 = (refs: string[][][], hyps: string[][]): number => corpusBleu(refs, hyps, BLEU_WEIGHTS.bleu1);
export const bleu2 = (refs: string[][][], hyps: string[][]): number => corpusBleu(refs, hyps, BLEU_WEIGHTS.bleu2);
export const bleu3 = (refs: string[][][], hyps: string[][]): number => corpusBleu(refs, hyps, BLEU_WEIGHTS.bleu3);
export const bleu4 = (refs: string[][][], hyps: string[][]): number => corpusBleu(refs, hyps, BLEU_WEIGHTS.bleu4);

/** BLEU-1..4 for text: one reference text per prediction, tokenized with `tokenizeRouge` (no stemming). */
export function bleuFromText(preds: string[], refs: string[]): BleuScores {
  if (preds.length !== refs.length) throw new RangeError(`bleuFromText: ${preds.length} predictions but ${refs.length} references`);
  return bleuScores(
    refs.map((r) => [tokenizeRouge(r)]),
    preds.map((p) => tokenizeRouge(p)),
  );
}

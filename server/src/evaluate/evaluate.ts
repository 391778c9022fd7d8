/**
 * Scores predictions against reference reports: ROUGE-1/2/L (mean sentence-level F), corpus
 * BLEU-1..4 and CheXpert label precision / recall / F1 (labels from the rule-based extractor on
 * both sides), each with a 95% percentile-bootstrap interval over report pairs (fixed seed).
 */
import { bleuPairStats, corpusBleuFromStats, BLEU_WEIGHTS, type BleuPairStats, type BleuScores } from "../metrics/bleu.js";
import { extractLabels } from "../metrics/label-extractor.js";
import { labelF1, type LabelF1Result } from "../metrics/label-f1.js";
import type { Labels } from "../metrics/chexpert.js";
import { rougeLTokens, rougeNTokens } from "../metrics/rouge.js";
import { tokenizeRouge } from "../metrics/tokenize.js";
import { bootstrapInterval, type Interval } from "./bootstrap.js";
import type { CsvTable } from "./csv.js";
import type { Prediction } from "./predictions.js";

export interface Pair {
  id: string;
  pred: string;
  ref: string;
}

export interface ReferenceOptions {
  idColumn?: string;
  textColumns?: string[];
  /** Keep only reference rows where column = value (e.g. { split: "val" }). */
  where?: Record<string, string>;
}

export interface MatchResult {
  pairs: Pair[];
  /** Predictions whose id has no (non-empty) reference. */
  unmatchedPredictions: number;
  /** Reference rows (after `where`, with text) that no prediction matched. */
  referencesWithoutPrediction: number;
  /** Reference rows whose text columns are all empty (left out). */
  emptyReferences: number;
}

export class EvaluationError extends Error {
  override name = "EvaluationError";
}

export function referenceText(row: Record<string, string>, textColumns: string[]): string {
  return textColumns
    .map((c) => (row[c] ?? "").trim())
    .filter((t) => t.length > 0)
    .join(" ");
}

export function matchPairs(predictions: Prediction[], table: CsvTable, refFile: string, options: ReferenceOptions = {}): MatchResult {
  const idColumn = options.idColumn ?? "uid";
  const textColumns = options.textColumns ?? ["findings", "impression"];
  for (const c of [idColumn, ...textColumns, ...Object.keys(options.where ?? {})]) {
    if (!table.header.includes(c)) throw new EvaluationError(`${refFile}: no column "${c}" (columns: ${table.header.join(", ")})`);
  }
  const refs = new Map<string, string>();
  let emptyReferences = 0;
  for (const row of table.rows) {
    if (Object.entries(options.where ?? {}).some(([k, v]) => row[k] !== v)) continue;
    const text = referenceText(row, textColumns);
    if (text === "") {
      emptyReferences++;
      continue;
    }
    const id = row[idColumn]!;
    if (refs.has(id)) throw new EvaluationError(`${refFile}: id "${id}" appears in more than one row of column "${idColumn}"`);
    refs.set(id, text);
  }
  const pairs: Pair[] = [];
  const used = new Set<string>();
  let unmatchedPredictions = 0;
  for (const p of predictions) {
    const ref = refs.get(p.id);
    if (ref === undefined) {
      unmatchedPredictions++;
      continue;
    }
    used.add(p.id);
    pairs.push({ id: p.id, pred: p.text, ref });
  }
  return { pairs, unmatchedPredictions, referencesWithoutPrediction: refs.size - used.size, emptyReferences };
}

export interface ScoreOptions {
  /** Porter-stem ROUGE tokens (rouge-score's use_stemmer). Default false. */
  stem?: boolean;
  uncertain?: "positive" | "negative";
  bootstrap?: number;
  seed?: number;
}

export interface MetricValue {
  name: string;
  value: number | null;
  ci95: Interval | null;
}

export interface Scores {
  n: number;
  metrics: MetricValue[];
  labels: LabelF1Result;
  options: Required<ScoreOptions>;
}

export function scorePairs(pairs: Pair[], options: ScoreOptions = {}): Scores {
  const opts: Required<ScoreOptions> = {
    stem: options.stem ?? false,
    uncertain: options.uncertain ?? "positive",
    bootstrap: options.bootstrap ?? 1000,
    seed: options.seed ?? 12345,
  };
  const rouge: { r1: number; r2: number; rl: number }[] = [];
  const bleu: BleuPairStats[] = [];
  const predLabels: Labels[] = [];
  const refLabels: Labels[] = [];
  for (const { pred, ref } of pairs) {
    const p = tokenizeRouge(pred, { stem: opts.stem });
    const r = tokenizeRouge(ref, { stem: opts.stem });
    rouge.push({ r1: rougeNTokens(p, r, 1).f, r2: rougeNTokens(p, r, 2).f, rl: rougeLTokens(p, r).f });
    bleu.push(bleuPairStats([tokenizeRouge(ref)], tokenizeRouge(pred), 4));
    predLabels.push(extractLabels(pred));
    refLabels.push(extractLabels(ref));
  }
  const n = pairs.length;
  const mean = (key: "r1" | "r2" | "rl") => (idx: number[]) => (idx.length === 0 ? null : idx.reduce((s, i) => s + rouge[i]![key], 0) / idx.length);
  const bleuOf = (k: keyof BleuScores) => (idx: number[]) => (idx.length === 0 ? null : corpusBleuFromStats(idx.map((i) => bleu[i]!), BLEU_WEIGHTS[k]));
  const f1 = (kind: "micro" | "macro") => (idx: number[]) =>
    labelF1(
      idx.map((i) => predLabels[i]!),
      idx.map((i) => refLabels[i]!),
      { uncertain: opts.uncertain },
    )[kind].f1;
  const all = Array.from({ length: n }, (_, i) => i);
  const statistics: Array<[string, (idx: number[]) => number | null]> = [
    ["ROUGE-1", mean("r1")],
    ["ROUGE-2", mean("r2")],
    ["ROUGE-L", mean("rl")],
    ["BLEU-1", bleuOf("bleu1")],
    ["BLEU-2", bleuOf("bleu2")],
    ["BLEU-3", bleuOf("bleu3")],
    ["BLEU-4", bleuOf("bleu4")],
    ["Label F1 (micro)", f1("micro")],
    ["Label F1 (macro)", f1("macro")],
  ];
  const metrics = statistics.map(([name, stat]) => ({
    name,
    value: stat(all),
    ci95: bootstrapInterval(n, stat, { samples: opts.bootstrap, seed: opts.seed }),
  }));
  return { n, metrics, labels: labelF1(predLabels, refLabels, { uncertain: opts.uncertain }), options: opts };
}

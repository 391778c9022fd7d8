/**
 * Language evaluation on IU X-ray val with the findings given: the findings line is built from
 * the MeSH labels (metrics/mesh-to-chexpert, all 14 observations assessed) in the daemon's exact
 * format (pipeline/condition.ts), the model writes findings + impression greedily, and the text
 * is scored with the project's metrics module. Faithfulness compares the labels the extractor
 * finds in the generated text with the labels given. Baselines: one constant normal report, and
 * retrieval of a training report with the same labels.
 */
import { join } from "node:path";
import type { LabelProbability } from "@xraygpt/protocol";
import type { LoadedManifest } from "../models/manifest.js";
import { expectedFindings, findingsLine, firstTurnPrompt } from "../pipeline/condition.js";
import { ACUTE_FINDINGS, saysNothingAbnormal, type ExpectedFindings } from "../host/consensus.js";
import { readCsvTable } from "../evaluate/csv.js";
import { scorePairs, type Scores } from "../evaluate/evaluate.js";
import { extractLabels, labelF1, meshToChexpert, OBSERVATIONS, rougeL, type Labels } from "../metrics/index.js";
import { ModelProcess } from "../host/model-process.js";
import { scaledEvidence } from "../host/candidates.js";
import { perKeyOracle, typicalTexts } from "./label-ceiling.js";

export interface Study {
  uid: string;
  labels: Labels;
  reference: string;
  findings: string;
}

export interface Faithfulness {
  /** Micro F1 of extracted vs given positive labels (uncertain counts as positive). */
  f1: number | null;
  /** Of the positive findings stated in the text, the share that were not given (goal 0). */
  statedNotGiven: number;
  /** Share of reports stating a given-negative finding as present. */
  reportsWithUnsupported: number;
  /** Of the reports given an acute finding (pneumonia, consolidation, edema, pneumothorax), the share saying there is nothing abnormal. */
  noAcuteDespiteAcute: number;
}

export interface SystemScores {
  name: string;
  scores: Scores;
  faithfulness: Faithfulness;
}

/** ROUGE-L F means over the studies with no positive finding, those with one or more, and all. */
export interface RougeLBySubset {
  name: string;
  normal: number;
  abnormal: number;
  all: number;
}

export interface LanguageEval {
  n: number;
  /** Studies with no positive finding given (the rest have at least one). */
  normalStudies: number;
  systems: SystemScores[];
  /** The shipped system and text-per-label-set references (label-ceiling.ts), by subset. */
  bySubset: RougeLBySubset[];
  examples: { uid: string; findingsLine: string; generated: string; reference: string }[];
  /** The product's texts (first system), in val order. */
  generated: string[];
  tokensPerSecond: number;
}

export const positive = (v: Labels[keyof Labels]) => v === 1 || v === -1;

function clean(s: string | undefined): string {
  return (s ?? "").replace(/\s+/g, " ").trim();
}

/** IU X-ray's train and val studies (reports.csv read once). */
export interface Studies {
  train: Study[];
  val: Study[];
}

export function loadStudies(dataDir: string): Studies {
  const table = readCsvTable(join(dataDir, "iu-xray", "reports.csv"));
  const split = (name: string) =>
    table.rows
      .filter((r) => r.split === name)
      .map((r) => {
        const findings = clean(r.findings);
        const impression = clean(r.impression);
        return { uid: r.uid!, labels: meshToChexpert(r.MeSH ?? ""), reference: [findings, impression].filter(Boolean).join(" "), findings };
      })
      .filter((s) => s.reference.length > 0);
  return { train: split("train"), val: split("val") };
}

/** A model process for evaluation: CPU, one thread, so several run side by side. */
export function evalModelProcess(m: LoadedManifest): ModelProcess {
  return new ModelProcess({ ggufPath: m.llmPath!, contextSize: m.manifest.llm!.contextSize, device: "cpu", threads: 1, label: m.manifest.id });
}

/** The first-turn prompt with a given findings line. */
export function givenPrompt(m: LoadedManifest, line: string, question: string = m.manifest.prompt.defaultPrompt): string {
  return firstTurnPrompt(m.manifest, { labels: [], conditioningText: line }, question);
}

/** The findings line the daemon would build if the vision stage had assessed all 14 observations, and what it gives as present / absent. */
export function givenFindings(labels: Labels, m: LoadedManifest): { line: string; expected: ExpectedFindings } {
  const probs: LabelProbability[] = OBSERVATIONS.map((o) => ({ name: o, probability: positive(labels[o]) ? 1 : 0 }));
  const conditioning = { ...m.manifest.conditioning, threshold: 0.5, uncertain: undefined };
  // As the product's findings-text backend checks its candidates (the model's lexicon included).
  const expected = { ...expectedFindings(probs, conditioning), ...(m.lexiconPath ? { lexiconFile: m.lexiconPath } : {}) };
  return { line: findingsLine(probs, undefined, conditioning), expected };
}

/** Removes the "Findings:" / "Impression:" headings the model writes. */
export function plainReport(text: string): string {
  return text.replace(/\b(Findings|Impression):\s*/g, "").replace(/\s+/g, " ").trim();
}

function faithfulness(texts: string[], given: Labels[]): Faithfulness {
  const extracted = texts.map(extractLabels);
  const f1 = labelF1(extracted, given, { observations: OBSERVATIONS.filter((o) => o !== "No Finding") }).micro.f1;
  let stated = 0;
  let unsupported = 0;
  let reports = 0;
  extracted.forEach((e, i) => {
    let any = false;
    for (const o of OBSERVATIONS) {
      if (o === "No Finding" || !positive(e[o])) continue;
      stated++;
      if (!positive(given[i]![o])) unsupported++, (any = true);
    }
    if (any) reports++;
  });
  const acute = texts.filter((_, i) => ACUTE_FINDINGS.some((o) => positive(given[i]![o])));
  const noAcuteDespiteAcute = acute.filter(saysNothingAbnormal).length / Math.max(1, acute.length);
  return { f1, statedNotGiven: stated ? unsupported / stated : 0, reportsWithUnsupported: reports / Math.max(1, texts.length), noAcuteDespiteAcute };
}

function labelKey(l: Labels): string {
  return OBSERVATIONS.filter((o) => positive(l[o])).join("|");
}

/** A study with no positive finding (No Finding, or no label at all: its line gives every finding negative). */
export const isNormal = (s: Study) => !OBSERVATIONS.some((o) => o !== "No Finding" && positive(s.labels[o]));

const TYPICAL = "baseline: most typical training report with the same labels";

function subsets(name: string, studies: Study[], scores: number[]): RougeLBySubset {
  const mean = (keep: (s: Study) => boolean) => {
    const xs = scores.filter((_, i) => keep(studies[i]!));
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
  };
  return { name, normal: mean(isNormal), abnormal: mean((s) => !isNormal(s)), all: mean(() => true) };
}

export async function evaluateLanguage(m: LoadedManifest, { train, val }: Studies, log: (s: string) => void): Promise<LanguageEval> {
  const given = val.map((s) => s.labels);
  const refs = val.map((s) => s.reference);
  // Baseline 1: the most frequent normal training report, for every study.
  const counts = new Map<string, number>();
  // (Reports labelled No Finding: one without any label is left out, as its text may be anything.)
  for (const s of train) if (labelKey(s.labels) === "No Finding") counts.set(s.reference, (counts.get(s.reference) ?? 0) + 1);
  const constant = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
  // Baseline 2: the first training report (file order) with exactly the same positive labels.
  const byKey = new Map<string, string>();
  for (const s of train) if (!byKey.has(labelKey(s.labels))) byKey.set(labelKey(s.labels), s.reference);
  const retrieved = val.map((s) => byKey.get(labelKey(s.labels)) ?? constant);
  // Baseline 3: the most typical training report with the same labels (label-ceiling.ts).
  const typical = typicalTexts(train.map((s) => ({ key: labelKey(s.labels), text: s.reference })));
  const typicalPreds = val.map((s) => typical.get(labelKey(s.labels)) ?? constant);

  // The product's own LLM stage: the model process with the manifest's generation settings, and
  // (when those use consensus decoding) without the findings check and plain greedy, for
  // comparison. Each variant has its own model process (one thread), so they run in parallel.
  const conditions = val.map((s) => givenFindings(s.labels, m));
  const settings = m.manifest.generation;
  const candidates = settings.candidates ?? 1;
  const variants = [{ name: candidates > 1 ? `xraygpt-mini (findings given; consensus of ${candidates}, checked)` : "xraygpt-mini (findings given)", settings, check: true }];
  if (candidates > 1) {
    variants.push({ name: `xraygpt-mini, consensus of ${candidates} without the findings check`, settings, check: false });
    variants.push({ name: "xraygpt-mini, greedy only (candidates 1)", settings: { ...settings, candidates: 1 }, check: false });
    if ((settings.candidateQuorum ?? 1) < 1) variants.push({ name: `xraygpt-mini, consensus of ${candidates}, checked, every candidate finishing (no quorum)`, settings: { ...settings, candidateQuorum: 1 }, check: true });
    // Half the candidates: what the checks and the consensus lose with fewer (half the time).
    if (candidates >= 8) variants.push({ name: `xraygpt-mini, consensus of ${candidates / 2}, checked`, settings: { ...settings, candidates: candidates / 2, evidenceCandidates: scaledEvidence(settings, candidates / 2) }, check: true });
  }
  let tokensGenerated = 0;
  let msGenerating = 0;
  const runs = await Promise.all(
    variants.map(async (v) => {
      const runner = evalModelProcess(m);
      const texts: string[] = [];
      try {
        for (const [i, { line, expected }] of conditions.entries()) {
          const done = await runner.generate(givenPrompt(m, line), v.settings, m.manifest.prompt.stop, v.check ? { expected } : {});
          tokensGenerated += done.sampledTokens;
          msGenerating += done.generateMs;
          texts.push(plainReport(done.text.trim()));
          if ((i + 1) % 50 === 0) log(`  ${v.name}: generated ${i + 1}/${val.length}`);
        }
      } finally {
        runner.stop();
      }
      return { name: v.name, texts };
    }),
  );
  const tokensPerSecond = tokensGenerated / (msGenerating / 1000);
  const system = (name: string, preds: string[]): SystemScores => ({
    name,
    scores: scorePairs(
      preds.map((pred, i) => ({ id: val[i]!.uid, pred, ref: refs[i]! })),
      { bootstrap: 200 },
    ),
    faithfulness: faithfulness(preds, given),
  });
  return {
    n: val.length,
    normalStudies: val.filter(isNormal).length,
    systems: [
      ...runs.map((r) => system(r.name, r.texts)),
      system("baseline: constant normal report", val.map(() => constant)),
      system("baseline: retrieval (same labels)", retrieved),
      system(TYPICAL, typicalPreds),
    ],
    bySubset: [
      subsets(runs[0]!.name, val, runs[0]!.texts.map((t, i) => rougeL(t, refs[i]!).f)),
      subsets("baseline: constant normal report", val, refs.map((r) => rougeL(constant, r).f)),
      subsets(TYPICAL, val, typicalPreds.map((t, i) => rougeL(t, refs[i]!).f)),
      subsets(
        "ceiling: per label set, the one training report best on those val studies (chosen on val)",
        val,
        perKeyOracle(val.map((s) => ({ key: labelKey(s.labels), text: s.reference })), train.map((s) => s.reference)),
      ),
    ],
    generated: runs[0]!.texts,
    examples: val.slice(0, 6).map((s, i) => ({ uid: s.uid, findingsLine: conditions[i]!.line, generated: runs[0]!.texts[i]!, reference: s.reference })),
    tokensPerSecond,
  };
}

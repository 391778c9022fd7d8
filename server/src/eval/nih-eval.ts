/**
 * Vision evaluation on adult radiographs, through the daemon's decode and preprocess and
 * onnxruntime-node (CPU):
 *  - NIH ChestX-ray14 out-of-fold: each train-split image is scored by the one ensemble member that
 *    did not train on its patient fold (the ONNX's "members" output; folds as
 *    models/xraygpt-mini/train/vision_data.py: fnv1a32(patient) % 5);
 *  - NIH val (never trained or tuned on): the ensemble as the daemon runs it;
 *  each per source ("nih-1024", "nih-64") and pooled: AUC with a 95% bootstrap interval, and F1 at
 *  the manifest's threshold (uncertain counts as negative);
 *  - COVID-CXR view accuracy on the held-out patients (fnv1a32("covid:" + patientid) % 5 == 0);
 *  - the summaries' text against the NIH labels on NIH val, end to end through the engine.
 */
import { basename, join } from "node:path";
import * as ort from "onnxruntime-node";
import type { LoadedManifest } from "../models/manifest.js";
import { decodeImage, toGrayBytes } from "../pipeline/decode/index.js";
import { preprocess } from "../pipeline/preprocess.js";
import { labelStatus } from "../pipeline/condition.js";
import { readCsvTable } from "../evaluate/csv.js";
import { bootstrapInterval, type Interval } from "../evaluate/bootstrap.js";
import { extractLabels, labelF1, placedFindings, type Labels, type Observation } from "../metrics/index.js";
import { XrayEngine } from "../engine/engine.js";
import { rocAuc } from "./vision-eval.js";
import { plainReport } from "./language-eval.js";

/** The NIH labels each vision observation reads (vision_data.py NIH_MAP). */
export const NIH_MAP: Record<string, string[]> = {
  Cardiomegaly: ["Cardiomegaly"],
  "Lung Opacity": ["Infiltration"],
  "Lung Lesion": ["Mass", "Nodule"],
  Edema: ["Edema"],
  Consolidation: ["Consolidation"],
  Pneumonia: ["Pneumonia"],
  Atelectasis: ["Atelectasis"],
  Pneumothorax: ["Pneumothorax"],
  "Pleural Effusion": ["Effusion"],
};
/** The 7 observations the text goal is scored on. */
export const TEXT_OBSERVATIONS: Observation[] = ["Atelectasis", "Cardiomegaly", "Pleural Effusion", "Lung Opacity", "Pneumonia", "Consolidation", "Edema"];
export const FOLDS = 5;
/** Pairs (source, observation) enter the mean AUC with at least this many positives. */
export const MIN_POSITIVES = 8;

export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, "utf8")) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

interface NihImage {
  file: string;
  patient: string;
  source: string;
  split: string;
  /** Per vision label, 0/1. */
  y: number[];
}

export interface PairScore {
  source: string;
  observation: string;
  n: number;
  positives: number;
  auc: number;
  ci: Interval | null;
  f1: number;
}

export interface SetScore {
  pairs: PairScore[];
  /** Mean AUC over the within-source pairs with ≥ MIN_POSITIVES positives. */
  withinSourceMean: number;
  counted: number;
}

export interface NihEval {
  labels: string[];
  oof: SetScore;
  val: SetScore;
  viewAccuracy: { n: number; correct: number };
  msPerImage: number;
}

function f1At(y: number[], p: number[], isPos: (p: number) => boolean): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  y.forEach((v, i) => {
    const hit = isPos(p[i]!);
    if (hit && v) tp++;
    else if (hit) fp++;
    else if (v) fn++;
  });
  return tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : NaN;
}

function score(images: NihImage[], probs: number[][], labels: string[], isPos: (p: number) => boolean): SetScore {
  const pairs: PairScore[] = [];
  for (const source of ["nih-1024", "nih-64", "pooled"]) {
    const idx = images.map((_, i) => i).filter((i) => source === "pooled" || images[i]!.source === source);
    labels.forEach((observation, j) => {
      const y = idx.map((i) => images[i]!.y[j]!);
      const p = idx.map((i) => probs[i]![j]!);
      const positives = y.filter((v) => v === 1).length;
      if (positives === 0 || positives === y.length) return;
      const ci = bootstrapInterval(
        y.length,
        (ix) => {
          const yy = ix.map((i) => y[i]!);
          const pos = yy.filter((v) => v === 1).length;
          return pos === 0 || pos === yy.length ? null : rocAuc(yy, ix.map((i) => p[i]!));
        },
        { samples: 1000, seed: 7 },
      );
      pairs.push({ source, observation, n: y.length, positives, auc: rocAuc(y, p), ci, f1: f1At(y, p, isPos) });
    });
  }
  const counted = pairs.filter((s) => s.source !== "pooled" && s.positives >= MIN_POSITIVES);
  return { pairs, withinSourceMean: counted.reduce((a, s) => a + s.auc, 0) / Math.max(1, counted.length), counted: counted.length };
}

function loadNih(dataDir: string, labels: readonly string[]): NihImage[] {
  const table = readCsvTable(join(dataDir, "nih-cxr14", "labels.csv"));
  return table.rows.map((r) => ({
    file: join(dataDir, "nih-cxr14", "images", r.filename!),
    patient: r.patient!,
    source: r.source!,
    split: r.split!,
    y: labels.map((l) => (NIH_MAP[l] ?? []).some((k) => r[k] === "1") ? 1 : 0),
  }));
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

async function tensorOf(path: string, m: LoadedManifest): Promise<Float32Array> {
  return preprocess(toGrayBytes(await decodeImage(path)), m.manifest.vision!.input);
}

export async function evaluateNih(m: LoadedManifest, dataDir: string, log: (s: string) => void = () => {}): Promise<NihEval> {
  const findings = m.manifest.vision!.outputs.find((o) => o.kind === "labels" && o.role === "findings");
  if (!findings || findings.kind !== "labels") throw new Error("the vision model has no findings output");
  const labels = findings.labels;
  const images = loadNih(dataDir, labels);
  const { input } = m.manifest.vision!;
  const session = await ort.InferenceSession.create(m.visionPath!, { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1 });
  if (!session.outputNames.includes("members")) throw new Error(`${m.visionPath} has no "members" output: out-of-fold figures need the per-member logits`);
  const oofProbs: number[][] = [];
  const valProbs: number[][] = [];
  const oofImages: NihImage[] = [];
  const valImages: NihImage[] = [];
  let ms = 0;
  try {
    const run = async (path: string) => {
      const tensor = await tensorOf(path, m);
      const t0 = performance.now();
      const out = await session.run({ [input.name]: new ort.Tensor("float32", tensor, [1, input.channels, input.height, input.width]) });
      ms += performance.now() - t0;
      return out;
    };
    for (const [i, img] of images.entries()) {
      const out = await run(img.file);
      if (img.split === "val") {
        valImages.push(img);
        valProbs.push(Array.from(out.findings!.data as Float32Array, sigmoid));
      } else {
        const members = out.members!.data as Float32Array;
        const k = fnv1a32(img.patient) % FOLDS;
        oofImages.push(img);
        oofProbs.push(labels.map((_, j) => sigmoid(members[k * labels.length + j]!)));
      }
      if ((i + 1) % 400 === 0) log(`  NIH: ${i + 1}/${images.length}`);
    }
    // COVID-CXR views on the held-out patients.
    const meta = readCsvTable(join(dataDir, "covid-cxr", "metadata.csv"));
    let n = 0;
    let correct = 0;
    for (const r of meta.rows) {
      const v = (r.view ?? "").trim();
      const truth = ["PA", "AP", "AP Supine"].includes(v) ? 0 : v === "L" ? 1 : -1;
      if (truth < 0 || fnv1a32(`covid:${r.patientid}`) % 5 !== 0) continue;
      const out = await run(join(dataDir, "covid-cxr", "images", r.filename!));
      const view = out.view!.data as Float32Array;
      n++;
      if ((view[1]! > view[0]! ? 1 : 0) === truth) correct++;
    }
    const isPos = (p: number) => labelStatus(p, m.manifest.conditioning) === "positive";
    return { labels, oof: score(oofImages, oofProbs, labels, isPos), val: score(valImages, valProbs, labels, isPos), viewAccuracy: { n, correct }, msPerImage: ms / (images.length + n) };
  } finally {
    await session.release();
  }
}

export interface TextScore {
  observation: string;
  tp: number;
  fp: number;
  fn: number;
  f1: number;
}

export interface NihTextEval {
  n: number;
  perObservation: TextScore[];
  micro: number;
  bySource: { source: string; micro: number }[];
  examples: { file: string; labels: string[]; findings: string; text: string }[];
  /** Summaries that state a finding at a side, lobe or zone (placedFindings), with the first. */
  placing: number;
  placingExample?: string;
}

/** Stated (uncertain counts as stated) vs the NIH labels, over TEXT_OBSERVATIONS. */
function textScores(rows: { y: number[]; stated: Labels }[]): { perObservation: TextScore[]; micro: number } {
  const refs = rows.map((r) => Object.fromEntries(TEXT_OBSERVATIONS.map((o, j) => [o, r.y[j] ? 1 : 0])) as Labels);
  const f = labelF1(rows.map((r) => r.stated), refs, { observations: TEXT_OBSERVATIONS, uncertain: "positive" });
  const perObservation = TEXT_OBSERVATIONS.map((o) => {
    const { tp, fp, fn, f1 } = f.perLabel[o]!;
    return { observation: o, tp, fp, fn, f1: f1 ?? 0 };
  });
  return { perObservation, micro: f.micro.f1 ?? 0 };
}

/**
 * End to end on NIH val: each image summarized by the engine (decode → vision → findings line →
 * report writer, as `xraygpt summarize`), the label extractor on the text (uncertain counts as
 * stated) against the image's NIH labels, over the 7 observations.
 */
export async function evaluateNihText(dataDir: string, log: (s: string) => void = () => {}): Promise<NihTextEval> {
  const val = loadNih(dataDir, TEXT_OBSERVATIONS).filter((img) => img.split === "val");
  const engine = new XrayEngine({ defaultModel: "xraygpt-mini", device: "cpu" });
  const rows: { source: string; y: number[]; stated: Labels }[] = [];
  const examples: NihTextEval["examples"] = [];
  let placing = 0;
  let placingExample: string | undefined;
  try {
    for (const [i, img] of val.entries()) {
      const s = await engine.summarize({ image: img.file });
      rows.push({ source: img.source, y: img.y, stated: extractLabels(plainReport(s.text)) });
      if (placedFindings(s.text) > 0 && placing++ === 0) placingExample = s.text.trim();
      if (examples.length < 6 && (i % 40 === 0 || img.y.some(Boolean))) {
        examples.push({ file: basename(img.file), labels: TEXT_OBSERVATIONS.filter((_, j) => img.y[j]), findings: s.findings.conditioningText ?? "", text: s.text.trim() });
      }
      if ((i + 1) % 50 === 0) log(`  NIH val summaries: ${i + 1}/${val.length}`);
    }
  } finally {
    await engine.dispose();
  }
  const bySource = ["nih-1024", "nih-64"].map((source) => ({ source, micro: textScores(rows.filter((r) => r.source === source)).micro }));
  return { n: rows.length, ...textScores(rows), bySource, examples, placing, ...(placingExample ? { placingExample } : {}) };
}

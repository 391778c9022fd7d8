/**
 * IU X-ray (Open-i) MeSH strings → CheXpert-14 labels, consistent with the text extractor.
 *
 * A MeSH string is ";"-separated terms, each "Head/qualifier/qualifier…" (e.g.
 * "Cardiomegaly/borderline;Opacity/lung/base/left"), or "normal", or "No Indexing".
 * Mapped heads give 1 (or -1 with the qualifier "borderline"); heads with no CheXpert
 * counterpart (calcified granuloma, tortuous aorta, hyperinflation, emphysema, spine …) give
 * nothing. "No Finding" follows CheXpert's rule (positive when nothing but Support Devices is
 * positive or uncertain); "No Indexing" / an empty string gives all null (unknown).
 * Everything else is null (not mentioned): MeSH lists findings, never negatives.
 */
import { emptyLabels, mergeLabel, withNoFinding, type Labels, type LabelValue, type Observation } from "./chexpert.js";

type Mapper = (qualifiers: string[]) => Array<[Observation, LabelValue]>;

const positive =
  (...obs: Observation[]): Mapper =>
  (q) =>
    obs.map((o) => [o, q.includes("borderline") ? -1 : 1]);
const when =
  (test: (q: string[]) => boolean, then: Mapper): Mapper =>
  (q) =>
    test(q) ? then(q) : [];
const has = (...words: string[]) => (q: string[]) => words.some((w) => q.includes(w));

const SIZE_UP = has("enlarged", "prominent", "widened", "wide", "large", "increased");

/** Keys are lowercased MeSH heads. */
const HEADS: Record<string, Mapper> = {
  cardiomegaly: positive("Cardiomegaly"),
  "cardiac shadow": when(SIZE_UP, positive("Cardiomegaly")),
  heart: when(SIZE_UP, positive("Cardiomegaly")),
  "heart ventricles": when(SIZE_UP, positive("Cardiomegaly")),
  "heart atria": when(SIZE_UP, positive("Cardiomegaly")),
  mediastinum: when((q) => SIZE_UP(q) && !q.includes("lymph nodes"), positive("Enlarged Cardiomediastinum")),
  opacity: positive("Lung Opacity"),
  density: (q) => (q.includes("mediastinum") || q.includes("bone") ? [] : positive("Lung Opacity")(q)),
  infiltrate: positive("Lung Opacity"),
  "airspace disease": positive("Lung Opacity"),
  markings: when(has("interstitial"), positive("Lung Opacity")),
  "lung diseases, interstitial": positive("Lung Opacity"),
  "pulmonary fibrosis": positive("Lung Opacity"),
  fibrosis: positive("Lung Opacity"),
  cicatrix: (q) => (q.includes("pleura") ? positive("Pleural Other")(q) : positive("Lung Opacity")(q)),
  nodule: positive("Lung Lesion"),
  mass: positive("Lung Lesion"),
  cavitation: positive("Lung Lesion"),
  "pulmonary edema": positive("Edema"),
  edema: positive("Edema"),
  "pulmonary congestion": positive("Edema"),
  "heart failure": positive("Edema"),
  consolidation: positive("Consolidation"),
  pneumonia: positive("Pneumonia"),
  "pulmonary atelectasis": positive("Atelectasis"),
  atelectasis: positive("Atelectasis"),
  pneumothorax: positive("Pneumothorax"),
  hydropneumothorax: positive("Pneumothorax", "Pleural Effusion"),
  hemopneumothorax: positive("Pneumothorax", "Pleural Effusion"),
  "pleural effusion": positive("Pleural Effusion"),
  hemothorax: positive("Pleural Effusion"),
  "costophrenic angle": when(has("blunted"), () => [["Pleural Effusion", -1]]),
  thickening: when(has("pleura"), positive("Pleural Other")),
  pleura: positive("Pleural Other"),
  "fractures, bone": positive("Fracture"),
  fractures: positive("Fracture"),
  fracture: positive("Fracture"),
  "catheters, indwelling": positive("Support Devices"),
  "surgical instruments": positive("Support Devices"),
  "implanted medical device": positive("Support Devices"),
  "medical device": positive("Support Devices"),
  "tube, inserted": positive("Support Devices"),
  stents: positive("Support Devices"),
  sutures: positive("Support Devices"),
};

export function meshToChexpert(mesh: string): Labels {
  const terms = mesh
    .split(";")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  const labels = emptyLabels();
  if (terms.length === 0 || terms.every((t) => t.toLowerCase() === "no indexing")) return labels;
  for (const term of terms) {
    const [head = "", ...qualifiers] = term.split("/").map((p) => p.trim().toLowerCase().replace(/\s+/g, " "));
    const map = HEADS[head];
    if (!map) continue;
    for (const [obs, value] of map(qualifiers)) labels[obs] = mergeLabel(labels[obs], value);
  }
  return withNoFinding(labels);
}

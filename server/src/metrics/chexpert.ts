/** The 14 CheXpert observations and the label values used by the extractor and the MeSH mapping. */
export const OBSERVATIONS = [
  "No Finding",
  "Enlarged Cardiomediastinum",
  "Cardiomegaly",
  "Lung Opacity",
  "Lung Lesion",
  "Edema",
  "Consolidation",
  "Pneumonia",
  "Atelectasis",
  "Pneumothorax",
  "Pleural Effusion",
  "Pleural Other",
  "Fracture",
  "Support Devices",
] as const;
export type Observation = (typeof OBSERVATIONS)[number];

/** 1 positive, 0 negative, -1 uncertain, null not mentioned (CheXpert's convention). */
export type LabelValue = 1 | 0 | -1 | null;
export type Labels = Record<Observation, LabelValue>;

export function emptyLabels(): Labels {
  return Object.fromEntries(OBSERVATIONS.map((o) => [o, null])) as Labels;
}

/** CheXpert's aggregation of several mentions: positive > uncertain > negative > not mentioned. */
export function mergeLabel(a: LabelValue, b: LabelValue): LabelValue {
  const rank = (v: LabelValue) => (v === 1 ? 3 : v === -1 ? 2 : v === 0 ? 1 : 0);
  return rank(b) > rank(a) ? b : a;
}

/**
 * CheXpert's "No Finding": positive when no observation other than Support Devices is positive or
 * uncertain; otherwise not mentioned. Returns a new object.
 */
export function withNoFinding(labels: Labels): Labels {
  const out = { ...labels };
  const anyFinding = OBSERVATIONS.some((o) => o !== "No Finding" && o !== "Support Devices" && (labels[o] === 1 || labels[o] === -1));
  out["No Finding"] = anyFinding ? null : 1;
  return out;
}

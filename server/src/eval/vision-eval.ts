/** Vision evaluation: PneumoniaMNIST val through the daemon's preprocess and onnxruntime-node. */
import { join } from "node:path";
import type { LoadedManifest } from "../models/manifest.js";
import { preprocess } from "../pipeline/preprocess.js";
import { VisionModel } from "../pipeline/vision.js";
import { readNpz } from "./npz.js";

/** Area under the ROC curve (ties get half credit). */
export function rocAuc(labels: number[], scores: number[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    for (let k = i; k <= j; k++) ranks[idx[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const pos = labels.filter((l) => l === 1).length;
  const neg = labels.length - pos;
  const sumPos = labels.reduce((s, l, i) => s + (l === 1 ? ranks[i]! : 0), 0);
  return (sumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

export interface VisionEval {
  n: number;
  positives: number;
  auc: number;
  threshold: number;
  accuracy: number;
  accuracyAt05: number;
  msPerImage: number;
}

export async function evaluateVision(m: LoadedManifest, dataDir: string): Promise<VisionEval> {
  const npz = readNpz(join(dataDir, "pneumoniamnist", "pneumoniamnist.npz"));
  const images = npz.get("val_images");
  const labelsArr = npz.get("val_labels");
  if (!images || !labelsArr) throw new Error("pneumoniamnist.npz: no val_images / val_labels");
  const [n, h, w] = images.shape as [number, number, number];
  const labels = Array.from(labelsArr.data as ArrayLike<number | bigint>, (v) => Number(v));
  const vision = await VisionModel.load(m.visionPath!, m.manifest.vision!, "cpu");
  const scores: number[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i++) {
      const px = (images.data as Uint8Array).subarray(i * h * w, (i + 1) * h * w);
      const tensor = preprocess({ width: w, height: h, data: Float32Array.from(px, (v) => v / 255) }, m.manifest.vision!.input);
      const out = await vision.run(tensor);
      scores.push(out.labels.find((l) => l.name === "Pneumonia")?.probability ?? out.labels[0]!.probability);
    }
  } finally {
    await vision.dispose();
  }
  const msPerImage = (performance.now() - t0) / n;
  const threshold = m.manifest.conditioning.threshold ?? 0.5;
  const acc = (t: number) => scores.filter((s, i) => (s >= t ? 1 : 0) === labels[i]).length / n;
  return { n, positives: labels.filter((l) => l === 1).length, auc: rocAuc(labels, scores), threshold, accuracy: acc(threshold), accuracyAt05: acc(0.5), msPerImage };
}

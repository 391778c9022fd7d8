/**
 * Saliency stage: where the classifier looked, per finding, without gradients — occlusion
 * sensitivity. The preprocessed input is cut into a grid of square cells (about 14 a side,
 * whatever the model's input size); each occlusion hides a patch of 2 × 2 cells (set to 0 in
 * normalized space: the training set's mean grey) and the drop in each finding's probability
 * is credited to the cells the patch covered. A cell's value is the mean drop over the patches
 * that covered it: positive where hiding the region lowers the finding (the region supports it).
 * Cost: grid² occluded images (≤ 196) in batches of BATCH, plus one unoccluded run.
 */
import type { Heatmap } from "@xraygpt/protocol";
import type { VisionSpec } from "../models/manifest.js";

/** What the saliency stage needs of the vision model (VisionModel provides it). */
export interface BatchClassifier {
  findingLabels: string[];
  findingsBatch(tensors: Float32Array, n: number): Promise<number[][]>;
}

export const GRID = 14;
const BATCH = 32;

/** Cell size (input pixels) and grid for a model input: about GRID cells on the shorter side. */
export function occlusionGeometry(input: Pick<VisionSpec["input"], "width" | "height">): { cell: number; cols: number; rows: number } {
  const cell = Math.max(1, Math.round(Math.min(input.width, input.height) / GRID));
  return { cell, cols: Math.ceil(input.width / cell), rows: Math.ceil(input.height / cell) };
}

/**
 * Occlusion maps for the chosen findings (all when `only` is undefined) of one preprocessed
 * tensor. Throws RangeError when a name is not one of the model's findings.
 */
export async function occlusionMaps(model: BatchClassifier, tensor: Float32Array, input: VisionSpec["input"], only?: string, unoccluded?: readonly number[]): Promise<Heatmap[]> {
  const labels = model.findingLabels;
  const chosen = only === undefined ? labels.map((_, i) => i) : [labels.indexOf(only)];
  if (chosen[0] === -1) throw new RangeError(`"${only}" is not one of the model's findings (${labels.join(", ")})`);
  const { width: W, height: H, channels: C } = input;
  const plane = W * H;
  const size = plane * C;
  const { cell, cols, rows } = occlusionGeometry(input);
  // One patch per cell, anchored at its top-left, 2 × 2 cells (clipped at the borders).
  const patches: { cx: number; cy: number }[] = [];
  for (let cy = 0; cy < rows; cy++) for (let cx = 0; cx < cols; cx++) patches.push({ cx, cy });
  // The probabilities of the whole image: the caller's when it has classified it already.
  const base = unoccluded ?? (await model.findingsBatch(tensor, 1))[0];
  const drops: number[][] = [];
  for (let start = 0; start < patches.length; start += BATCH) {
    const group = patches.slice(start, start + BATCH);
    const batch = new Float32Array(size * group.length);
    group.forEach(({ cx, cy }, k) => {
      const out = batch.subarray(k * size, (k + 1) * size);
      out.set(tensor);
      const x0 = cx * cell, x1 = Math.min(W, (cx + 2) * cell);
      const y0 = cy * cell, y1 = Math.min(H, (cy + 2) * cell);
      for (let c = 0; c < C; c++) for (let y = y0; y < y1; y++) out.fill(0, c * plane + y * W + x0, c * plane + y * W + x1);
    });
    const probs = await model.findingsBatch(batch, group.length);
    for (const p of probs) drops.push(chosen.map((i) => base![i]! - p[i]!));
  }
  return chosen.map((li, j) => {
    const sum = new Float64Array(cols * rows);
    const count = new Uint16Array(cols * rows);
    patches.forEach(({ cx, cy }, k) => {
      for (let y = cy; y < Math.min(rows, cy + 2); y++)
        for (let x = cx; x < Math.min(cols, cx + 2); x++) {
          sum[y * cols + x]! += drops[k]![j]!;
          count[y * cols + x]!++;
        }
    });
    const values = Array.from(sum, (s, i) => s / count[i]!);
    return { finding: labels[li]!, probability: base![li]!, cols, rows, cell, inputWidth: W, inputHeight: H, values, min: Math.min(...values), max: Math.max(...values) };
  });
}

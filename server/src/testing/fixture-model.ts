/**
 * A complete fixture model folder for tests and benchmarks: `<dir>/<id>/model.json` with a tiny
 * ONNX classifier (vision) and a tiny random llama GGUF, in the bundled model's format.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Manifest, VisionSpec } from "../models/manifest.js";
import { writeTinyClassifier } from "./tiny-onnx.js";
import { writeTinyLlama, type TinyLlamaOptions } from "./tiny-llama.js";

export const FIXTURE_LABELS = ["Pneumonia", "Lung Opacity", "Pleural Effusion"];

export function fixtureManifest(id: string, overrides: Partial<Manifest> = {}): Manifest & { vision: VisionSpec } {
  return <Manifest & { vision: VisionSpec }>{
    id,
    name: `Fixture ${id}`,
    version: "0.0.1",
    license: "CC0-1.0 (test fixture)",
    vision: {
      file: "vision.onnx",
      input: { name: "image", width: 16, height: 16, channels: 1, mean: [0.5], std: [0.25] },
      outputs: [
        { kind: "labels", name: "probs", activation: "none", labels: FIXTURE_LABELS, role: "findings" },
        { kind: "labels", name: "view", activation: "none", labels: ["frontal", "lateral"], role: "view" },
      ],
    },
    llm: { file: "llm.gguf", contextSize: 512 },
    conditioning: { mode: "findings-text", threshold: 0.5 },
    prompt: { template: "###Patient: {findings} {prompt} ###Doctor:", stop: ["###"], defaultPrompt: "Describe the given chest x-ray image in detail." },
    generation: { maxTokens: 24, temperature: 0, topP: 1, topK: 40, repeatPenalty: 1, seed: 1 },
    ...overrides,
  };
}

/** Writes `<dir>/<id>/` and returns the model folder. */
export async function writeFixtureModel(dir: string, id = "fixture-tiny", opts: { llm?: TinyLlamaOptions; manifest?: Partial<Manifest>; gguf?: Buffer } = {}): Promise<string> {
  const modelDir = join(dir, id);
  await mkdir(modelDir, { recursive: true });
  const manifest = fixtureManifest(id, opts.manifest);
  await writeTinyClassifier(join(modelDir, manifest.vision.file), { width: 16, height: 16, labels: FIXTURE_LABELS, viewLabels: ["frontal", "lateral"] });
  if (opts.gguf) await writeFile(join(modelDir, manifest.llm!.file), opts.gguf);
  else await writeTinyLlama(join(modelDir, manifest.llm!.file), opts.llm);
  await writeFile(join(modelDir, "model.json"), JSON.stringify(manifest, null, 2));
  return modelDir;
}

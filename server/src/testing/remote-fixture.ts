/**
 * A remote model folder for tests: the fixture classifier (vision.onnx, so a findings line is
 * computed locally) and a manifest whose backend is an OpenAI-compatible server at `baseUrls`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Manifest, RemoteBackendSpec } from "../models/manifest.js";
import { FIXTURE_LABELS, fixtureManifest } from "./fixture-model.js";
import { writeTinyClassifier } from "./tiny-onnx.js";

export async function writeRemoteModel(dir: string, id: string, backend: Omit<RemoteBackendSpec, "kind">, overrides: Partial<Manifest> = {}): Promise<string> {
  const modelDir = join(dir, id);
  await mkdir(modelDir, { recursive: true });
  const { llm: _llm, ...manifest } = fixtureManifest(id, { backend: { kind: "openai", ...backend }, ...overrides });
  await writeTinyClassifier(join(modelDir, manifest.vision.file), { width: 16, height: 16, labels: FIXTURE_LABELS, viewLabels: ["frontal", "lateral"] });
  await writeFile(join(modelDir, "model.json"), JSON.stringify(manifest, null, 2));
  return modelDir;
}

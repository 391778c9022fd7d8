/**
 * A fixture soft-token model folder (`conditioning: soft-tokens`): a tiny ONNX "vision" graph
 * mapping the image to K embedding rows (Flatten → MatMul → Add → Reshape [K, dim]), optionally a
 * projection matrix file [dim, n_embd], a tiny llama GGUF, and model.json whose template holds
 * `<ImageHere>`. Seeded weights: different images give different soft tokens.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import type { Manifest } from "../models/manifest.js";
import { fixtureManifest } from "./fixture-model.js";
import { writeTinyLlama, type TinyLlamaOptions } from "./tiny-llama.js";
import { mulberry32 } from "../util/random.js";
import { encodeModel, floatTensor, valueInfo } from "./tiny-onnx.js";

const { onnx } = onnxProto;

export interface SoftTokenVisionOptions {
  width: number;
  height: number;
  /** Soft tokens per image. */
  tokens: number;
  dim: number;
  seed?: number;
}

export function tinySoftTokenVision(opts: SoftTokenVisionOptions): Uint8Array {
  const rand = mulberry32(opts.seed ?? 13);
  const n = opts.width * opts.height;
  const cols = opts.tokens * opts.dim;
  // Rows of about unit scale, like token_embd rows of the tiny GGUF.
  const w = Float32Array.from({ length: n * cols }, () => ((rand() - 0.5) * 3.5) / Math.sqrt(n));
  const b = Float32Array.from({ length: cols }, () => (rand() - 0.5) * 0.5);
  const shape = new BigInt64Array([BigInt(opts.tokens), BigInt(opts.dim)]);
  const shapeTensor = { name: "shape", dims: [2], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(shape.buffer) };
  return encodeModel({
    name: "tiny-soft-token-vision",
    node: [
      { opType: "Flatten", input: ["image"], output: ["flat"], attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
      { opType: "MatMul", input: ["flat", "w"], output: ["mm"] },
      { opType: "Add", input: ["mm", "b"], output: ["rows"] },
      { opType: "Reshape", input: ["rows", "shape"], output: ["embeddings"] },
    ],
    initializer: [floatTensor("w", [n, cols], w), floatTensor("b", [cols], b), shapeTensor],
    input: [valueInfo("image", [1, 1, opts.height, opts.width])],
    output: [valueInfo("embeddings", [opts.tokens, opts.dim])],
  });
}

export interface SoftTokenFixtureOptions {
  /** Soft tokens per image (default 4). */
  tokens?: number;
  /** The LLM's embedding size (default 32). */
  nEmbd?: number;
  /** Vision output size; when it differs from nEmbd a projection file is written (default nEmbd). */
  visionDim?: number;
  llm?: Omit<TinyLlamaOptions, "nEmbd">;
  manifest?: Partial<Manifest>;
}

export const SOFT_TOKEN_TEMPLATE = "###Patient: <Img><ImageHere></Img> {prompt} ###Doctor:";

/** Writes `<dir>/<id>/` (model.json, vision.onnx, llm.gguf, maybe projection.bin); returns the folder. */
export async function writeSoftTokenFixtureModel(dir: string, id = "fixture-soft", opts: SoftTokenFixtureOptions = {}): Promise<string> {
  const tokens = opts.tokens ?? 4;
  const nEmbd = opts.nEmbd ?? 32;
  const visionDim = opts.visionDim ?? nEmbd;
  const modelDir = join(dir, id);
  await mkdir(modelDir, { recursive: true });
  const base = fixtureManifest(id);
  const manifest = fixtureManifest(id, {
    vision: { ...base.vision, outputs: [{ kind: "embeddings", name: "embeddings", shape: [tokens, visionDim] }] },
    conditioning: { mode: "soft-tokens", ...(visionDim !== nEmbd ? { projection: "projection.bin" } : {}) },
    prompt: { ...base.prompt, template: SOFT_TOKEN_TEMPLATE },
    ...opts.manifest,
  });
  const { input } = manifest.vision;
  await writeFile(join(modelDir, manifest.vision.file), tinySoftTokenVision({ width: input.width, height: input.height, tokens, dim: visionDim }));
  if (visionDim !== nEmbd) {
    const rand = mulberry32(17);
    const p = Float32Array.from({ length: visionDim * nEmbd }, () => ((rand() - 0.5) * 3.5) / Math.sqrt(visionDim));
    await writeFile(join(modelDir, "projection.bin"), new Uint8Array(p.buffer));
  }
  await writeTinyLlama(join(modelDir, manifest.llm!.file), { ...opts.llm, nEmbd });
  await writeFile(join(modelDir, "model.json"), JSON.stringify(manifest, null, 2));
  return modelDir;
}

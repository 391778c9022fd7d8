/**
 * Vision stage: an onnxruntime-node session over the manifest's vision ONNX. Uses the CUDA
 * execution provider when asked for (device gpu/auto) and available, else the CPU; `device`
 * says which one the session got.
 */
import "../util/no-telemetry.js"; // first: before onnxruntime-node loads
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import type { Device, LabelProbability } from "@xraygpt/protocol";
import type { VisionSpec } from "../models/manifest.js";
import { EngineError } from "../engine/errors.js";

export interface VisionOutputs {
  /** Finding labels (role "findings"), in manifest order. */
  labels: LabelProbability[];
  view?: LabelProbability[];
  /** The embeddings output ([tokens, dim]) for soft-token models. */
  embeddings?: { data: Float32Array; tokens: number; dim: number };
}

/**
 * ONNX Runtime's CUDA provider is a separate library that onnxruntime-node downloads at install
 * unless told to skip (this project's .npmrc skips it; see README "GPU"). Only try CUDA when
 * that library is there, so CPU-only installs don't log a failed load on every start.
 */
export function cudaProviderInstalled(): boolean {
  try {
    const bin = join(dirname(createRequire(import.meta.url).resolve("onnxruntime-node")), "..", "bin", "napi-v6", process.platform, process.arch);
    return existsSync(join(bin, "libonnxruntime_providers_cuda.so"));
  } catch {
    return false;
  }
}

function activate(values: Float32Array, activation: "sigmoid" | "softmax" | "none"): number[] {
  const v = Array.from(values);
  if (activation === "sigmoid") return v.map((x) => 1 / (1 + Math.exp(-x)));
  if (activation === "softmax") {
    const max = Math.max(...v);
    const e = v.map((x) => Math.exp(x - max));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / sum);
  }
  return v;
}

export class VisionModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly spec: VisionSpec,
    readonly device: Device,
  ) {}

  static async load(path: string, spec: VisionSpec, want: "auto" | "cpu" | "gpu", threads = 1): Promise<VisionModel> {
    const attempts: { providers: string[]; device: Device }[] = want !== "cpu" && cudaProviderInstalled() ? [{ providers: ["cuda"], device: "cuda" }] : [];
    attempts.push({ providers: ["cpu"], device: "cpu" });
    let lastError: unknown;
    for (const a of attempts) {
      try {
        const session = await ort.InferenceSession.create(path, { executionProviders: a.providers, graphOptimizationLevel: "all", intraOpNumThreads: threads, interOpNumThreads: 1 });
        const model = new VisionModel(session, spec, a.device);
        model.checkSignature();
        return model;
      } catch (e) {
        if (e instanceof EngineError) throw e;
        lastError = e;
      }
    }
    throw new EngineError("ModelUnavailable", `cannot load vision model ${path}: ${(lastError as Error).message}`, path);
  }

  private checkSignature(): void {
    const { inputNames, outputNames } = this.session;
    if (!inputNames.includes(this.spec.input.name))
      throw new EngineError("ModelUnavailable", `vision model has no input "${this.spec.input.name}" (it has: ${inputNames.join(", ")})`);
    for (const o of this.spec.outputs)
      if (!outputNames.includes(o.name)) throw new EngineError("ModelUnavailable", `vision model has no output "${o.name}" (it has: ${outputNames.join(", ")})`);
  }

  /** Run on a preprocessed NCHW tensor (see preprocess.ts). */
  async run(tensor: Float32Array): Promise<VisionOutputs> {
    const { input } = this.spec;
    const feeds = { [input.name]: new ort.Tensor("float32", tensor, [1, input.channels, input.height, input.width]) };
    const results = await this.session.run(feeds);
    const out: VisionOutputs = { labels: [] };
    for (const o of this.spec.outputs) {
      const t = results[o.name]!;
      const data = t.data as Float32Array;
      if (o.kind === "embeddings") {
        const [tokens, dim] = o.shape;
        if (data.length !== tokens * dim) throw new EngineError("ModelUnavailable", `vision output "${o.name}" has ${data.length} values, the manifest says [${tokens}, ${dim}]`);
        out.embeddings = { data: new Float32Array(data), tokens, dim };
        continue;
      }
      if (data.length !== o.labels.length) throw new EngineError("ModelUnavailable", `vision output "${o.name}" has ${data.length} values for ${o.labels.length} labels`);
      const probs = activate(data, o.activation).map((p, i) => ({ name: o.labels[i]!, probability: p }));
      if (o.role === "view") out.view = probs;
      else out.labels.push(...probs);
    }
    return out;
  }

  /** The finding labels (role "findings"), in manifest order; empty for models without a classifier. */
  get findingLabels(): string[] {
    return this.spec.outputs.flatMap((o) => (o.kind === "labels" && o.role !== "view" ? o.labels : []));
  }

  /** Whether the model takes a batch of more than one image (measured once: tried, else batch 1). */
  private batchable: boolean | undefined;

  /**
   * Finding probabilities for `n` preprocessed tensors laid end to end (one per image), as
   * [image][label]. One ONNX run when the model takes a dynamic batch dimension, else one per image.
   */
  async findingsBatch(tensors: Float32Array, n: number): Promise<number[][]> {
    const { input } = this.spec;
    const size = input.channels * input.height * input.width;
    const outs = this.spec.outputs.filter((o) => o.kind === "labels" && o.role !== "view");
    const runOnce = async (data: Float32Array, count: number): Promise<number[][]> => {
      const results = await this.session.run({ [input.name]: new ort.Tensor("float32", data, [count, input.channels, input.height, input.width]) });
      const rows: number[][] = Array.from({ length: count }, () => []);
      for (const o of outs) {
        if (o.kind !== "labels") continue;
        const d = results[o.name]!.data as Float32Array;
        const L = o.labels.length;
        if (d.length !== count * L) throw new EngineError("ModelUnavailable", `vision output "${o.name}" has ${d.length} values for ${count} × ${L} labels`);
        for (let i = 0; i < count; i++) rows[i]!.push(...activate(d.subarray(i * L, (i + 1) * L), o.activation));
      }
      return rows;
    };
    if (n > 1 && this.batchable !== false) {
      try {
        const rows = await runOnce(tensors, n);
        this.batchable = true;
        return rows;
      } catch (e) {
        if (this.batchable) throw e;
        this.batchable = false; // a fixed batch of 1: fall back to one run per image
      }
    }
    const rows: number[][] = [];
    for (let i = 0; i < n; i++) rows.push(...(await runOnce(tensors.subarray(i * size, (i + 1) * size), 1)));
    return rows;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Header checks of a model's files, run when models are listed, so `xraygpt models` shows a
 * broken model before its first use: each file must be a regular file (a FIFO is never opened);
 * the GGUF must start with its magic, a known version and tensor / key-value counts a real model
 * could have (a header claiming 2^62 entries makes llama.cpp spin and grow); the ONNX file must
 * start like an ONNX protobuf (field 1, ir_version); the projection must be whole float32 values;
 * a multimodal model's projector must be a whole "clip" GGUF (its header is read: a few kB).
 * Problems name the file and what is wrong, never its bytes.
 */
import type { LoadedManifest } from "./manifest.js";
import { readHead, requireRegularFile } from "../util/safe-file.js";
import { inspectProjector } from "./multimodal-manifest.js";

/** Far above any real model (llama 405B has ~1,100 tensors and ~50 keys). */
const MAX_TENSORS = 1_000_000;
const MAX_KEYS = 100_000;

export function ggufHeaderProblem(head: Buffer): string | undefined {
  if (head.length < 24) return "too short for a GGUF header";
  if (head.toString("latin1", 0, 4) !== "GGUF") return "not a GGUF file (no GGUF magic)";
  const version = head.readUInt32LE(4);
  if (version < 2 || version > 3) return `unsupported GGUF version ${version}`;
  const tensors = head.readBigUInt64LE(8);
  const keys = head.readBigUInt64LE(16);
  if (tensors > BigInt(MAX_TENSORS)) return `GGUF header claims ${tensors} tensors (corrupt)`;
  if (keys > BigInt(MAX_KEYS)) return `GGUF header claims ${keys} metadata entries (corrupt)`;
  return undefined;
}

export function onnxHeaderProblem(head: Buffer): string | undefined {
  if (head.length < 2) return "too short for an ONNX model";
  // ModelProto field 1 (ir_version, varint) is written first by every ONNX exporter.
  if (head[0] !== 0x08) return "not an ONNX model (does not start with ir_version)";
  return undefined;
}

async function check(path: string, what: string, problem: (head: Buffer) => string | undefined, out: string[]): Promise<void> {
  try {
    const why = problem(await readHead(path, 24, what));
    if (why) out.push(`${path}: ${why}`);
  } catch (e) {
    out.push((e as Error).message);
  }
}

/** Every problem found in the model's files (empty: they look loadable). */
export async function modelFileProblems(loaded: LoadedManifest, projectionPath: string | undefined): Promise<string[]> {
  const problems: string[] = [];
  if (loaded.visionPath) await check(loaded.visionPath, "vision model file", onnxHeaderProblem, problems);
  if (loaded.llmPath) await check(loaded.llmPath, "GGUF model file", ggufHeaderProblem, problems);
  if (loaded.mmprojPath) {
    try {
      inspectProjector(loaded.mmprojPath);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (projectionPath) {
    try {
      if (requireRegularFile(projectionPath, "projection file").size % 4 !== 0) problems.push(`${projectionPath}: not a float32 matrix (size not a multiple of 4)`);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return problems;
}

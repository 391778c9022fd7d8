/**
 * Shared by the soft-token tests and benchmark: the loaded addon (or a failing test naming why)
 * and token_embd rows of a tiny fixture GGUF.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyLlama, type TinyLlamaFile } from "../testing/tiny-llama.js";
import { BatchedTextGenerator } from "../host/batched-generator.js";
import { loadSoftTokenAddon, type LlamaEmbedAddon } from "./addon.js";

export function requireAddon(): LlamaEmbedAddon {
  const loaded = loadSoftTokenAddon({ gpu: false });
  if (!loaded.ok) throw new Error(`the soft-token addon is unavailable: ${loaded.reason}`);
  return loaded.addon;
}

/** The token_embd rows of `ids`, as the GGUF stores them (f32). */
export function tokenEmbeddingRows(file: TinyLlamaFile, ids: ArrayLike<number>): Float32Array {
  const embd = file.tensors.find((t) => t.name === "token_embd.weight");
  if (!embd) throw new Error("fixture has no token_embd.weight");
  const rows = new Float32Array(ids.length * file.nEmbd);
  for (let i = 0; i < ids.length; i++) rows.set(embd.data.subarray(ids[i]! * file.nEmbd, (ids[i]! + 1) * file.nEmbd), i * file.nEmbd);
  return rows;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `xraygpt-${prefix}-`));
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A BatchedTextGenerator over a tiny random GGUF (seed 11) written into `dir` as m.gguf. */
export async function tinyBatchedGenerator(dir: string): Promise<BatchedTextGenerator> {
  requireAddon();
  await writeTinyLlama(join(dir, "m.gguf"), { seed: 11 });
  return BatchedTextGenerator.load(join(dir, "m.gguf"), { gpu: false, contextSize: 256, threads: 1 });
}

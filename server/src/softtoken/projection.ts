/**
 * The optional soft-token projection of a manifest (`conditioning.projection`): a float32
 * little-endian matrix [inDim, outDim] (row-major) that maps the vision embeddings into the
 * LLM's embedding space (XrayGPT's `llama_proj`, when it is not inside the ONNX).
 */
import { readFile } from "node:fs/promises";

export interface Projection {
  inDim: number;
  outDim: number;
  /** inDim × outDim, row-major. */
  weights: Float32Array;
}

export async function loadProjection(path: string, inDim: number, outDim: number): Promise<Projection> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`cannot read the soft-token projection ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const expected = inDim * outDim * 4;
  if (bytes.length !== expected)
    throw new Error(`soft-token projection ${path} has ${bytes.length} bytes; [${inDim}, ${outDim}] float32 needs ${expected}`);
  const weights = new Float32Array(inDim * outDim);
  for (let i = 0; i < weights.length; i++) weights[i] = bytes.readFloatLE(i * 4);
  return { inDim, outDim, weights };
}

/** rows: nTokens × inDim → nTokens × outDim. */
export function project(rows: Float32Array, nTokens: number, p: Projection): Float32Array {
  if (rows.length !== nTokens * p.inDim) throw new Error(`projection expects ${nTokens} × ${p.inDim} values, got ${rows.length}`);
  const out = new Float32Array(nTokens * p.outDim);
  for (let t = 0; t < nTokens; t++) {
    const o = t * p.outDim;
    for (let i = 0; i < p.inDim; i++) {
      const x = rows[t * p.inDim + i]!;
      if (x === 0) continue;
      const w = i * p.outDim;
      for (let j = 0; j < p.outDim; j++) out[o + j]! += x * p.weights[w + j]!;
    }
  }
  return out;
}

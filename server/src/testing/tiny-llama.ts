/**
 * Tiny llama-architecture GGUF models for tests: random (seeded) weights, a SentencePiece-style
 * vocabulary with byte fallback, a few hundred tokens. Loads in llama.cpp in milliseconds.
 */
import { mulberry32 } from "../util/random.js";
import { writeGguf, type GgufTensor, type GgufValue } from "../gguf/writer.js";

export interface TinyLlamaOptions {
  seed?: number;
  nEmbd?: number;
  nLayer?: number;
  nHead?: number;
  nFf?: number;
  contextLength?: number;
  /** Extra whole-word pieces added to the vocabulary (as "▁word"). */
  words?: string[];
  /** Control tokens appended to the vocabulary (e.g. a chat template's turn markers). */
  controlTokens?: string[];
  /** Metadata written over the generated keys (e.g. to make malformed files for tests). */
  metadata?: Record<string, GgufValue>;
}

export const DEFAULT_WORDS = [
  "the", "lungs", "are", "clear", "heart", "size", "is", "normal", "no", "pleural", "effusion",
  "pneumothorax", "pneumonia", "opacity", "right", "left", "lower", "lobe", "impression", "findings",
  "acute", "cardiopulmonary", "disease", "mild", "cardiomegaly", "consolidation", "of", "and", "with",
  "Patient", "Doctor", "###", ":", ".", ",", "Assessed", "positive", "negative", "View", "frontal",
];

export function tinyVocab(words: string[], controlTokens: string[] = []): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  const pieces = new Set<string>(["▁"]);
  for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") pieces.add(c), pieces.add(`▁${c}`);
  for (const w of words) pieces.add(`▁${w}`);
  const scores = tokens.map(() => 0);
  let i = 0;
  for (const p of pieces) {
    tokens.push(p);
    types.push(1);
    scores.push(p.length * 1.0 - i++ * 1e-4);
  }
  for (const c of controlTokens) tokens.push(c), types.push(3), scores.push(0);
  return { tokens, scores, types };
}

/** Seeded random tensors (Box-Muller normals from mulberry32), f32. */
export function randomTensors(seed: number) {
  const rand = mulberry32(seed);
  const normal = (scale: number) => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand()) * scale;
  };
  const mat = (name: string, dims: number[], scale: number, mean = 0): GgufTensor => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = mean + normal(scale);
    return { name, dims, dtype: "f32", data };
  };
  const ones = (name: string, n: number): GgufTensor => ({ name, dims: [n], dtype: "f32", data: new Float32Array(n).fill(1) });
  return { mat, ones };
}

/** What writeTinyLlama wrote: the tensors (f32, as stored) and the vocabulary. */
export interface TinyLlamaFile {
  nEmbd: number;
  nVocab: number;
  tokens: string[];
  tensors: GgufTensor[];
}

export async function writeTinyLlama(path: string, opts: TinyLlamaOptions = {}): Promise<TinyLlamaFile> {
  const nEmbd = opts.nEmbd ?? 32;
  const nLayer = opts.nLayer ?? 2;
  const nHead = opts.nHead ?? 4;
  const nFf = opts.nFf ?? 64;
  const ctx = opts.contextLength ?? 512;
  const { mat, ones } = randomTensors(opts.seed ?? 1);
  const { tokens, scores, types } = tinyVocab(opts.words ?? DEFAULT_WORDS, opts.controlTokens);
  const nVocab = tokens.length;
  const tensors: GgufTensor[] = [mat("token_embd.weight", [nEmbd, nVocab], 1.0)];
  for (let l = 0; l < nLayer; l++) {
    const p = `blk.${l}`;
    const s = 1 / Math.sqrt(nEmbd);
    tensors.push(
      ones(`${p}.attn_norm.weight`, nEmbd),
      mat(`${p}.attn_q.weight`, [nEmbd, nEmbd], s),
      mat(`${p}.attn_k.weight`, [nEmbd, nEmbd], s),
      mat(`${p}.attn_v.weight`, [nEmbd, nEmbd], s),
      mat(`${p}.attn_output.weight`, [nEmbd, nEmbd], s),
      ones(`${p}.ffn_norm.weight`, nEmbd),
      mat(`${p}.ffn_gate.weight`, [nEmbd, nFf], s),
      mat(`${p}.ffn_up.weight`, [nEmbd, nFf], s),
      mat(`${p}.ffn_down.weight`, [nFf, nEmbd], 1 / Math.sqrt(nFf)),
    );
  }
  tensors.push(ones("output_norm.weight", nEmbd), mat("output.weight", [nEmbd, nVocab], 1 / Math.sqrt(nEmbd)));
  const meta: Record<string, GgufValue> = {
    "general.architecture": { type: "string", value: "llama" },
    "general.name": { type: "string", value: "tiny-llama-fixture" },
    "llama.context_length": { type: "u32", value: ctx },
    "llama.embedding_length": { type: "u32", value: nEmbd },
    "llama.block_count": { type: "u32", value: nLayer },
    "llama.feed_forward_length": { type: "u32", value: nFf },
    "llama.attention.head_count": { type: "u32", value: nHead },
    "llama.attention.head_count_kv": { type: "u32", value: nHead },
    "llama.attention.layer_norm_rms_epsilon": { type: "f32", value: 1e-5 },
    "llama.rope.dimension_count": { type: "u32", value: nEmbd / nHead },
    "tokenizer.ggml.model": { type: "string", value: "llama" },
    "tokenizer.ggml.tokens": { type: "string[]", value: tokens },
    "tokenizer.ggml.scores": { type: "f32[]", value: scores },
    "tokenizer.ggml.token_type": { type: "i32[]", value: types },
    "tokenizer.ggml.bos_token_id": { type: "u32", value: 1 },
    "tokenizer.ggml.eos_token_id": { type: "u32", value: 2 },
    "tokenizer.ggml.unknown_token_id": { type: "u32", value: 0 },
    "tokenizer.ggml.add_bos_token": { type: "bool", value: true },
  };
  await writeGguf(path, { ...meta, ...opts.metadata }, tensors);
  return { nEmbd, nVocab, tokens, tensors };
}

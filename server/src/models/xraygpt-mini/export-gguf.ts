/**
 * xraygpt-mini: writes the report LM's GGUF (llama architecture, SentencePiece tokenizer embedded)
 * from the Python training dump (models/xraygpt-mini/train/export.py: lm-dump.json + lm-dump.bin),
 * with the project's GGUF writer.
 *
 *   node server/dist/models/xraygpt-mini/export-gguf.js DUMP.json OUT.gguf
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { writeGguf, type GgufTensor, type GgufValue } from "../../gguf/writer.js";

export interface LmDump {
  config: { vocab: number; dim: number; layers: number; heads: number; ffn: number; ctx: number; eps: number; rope_base: number };
  tokenizer: { tokens: string[]; scores: number[]; types: number[]; bos: number; eos: number; unk: number };
  tensors: { name: string; dims: number[]; offset: number; count: number }[];
}

const u32 = (value: number): GgufValue => ({ type: "u32", value });
const text = (value: string): GgufValue => ({ type: "string", value });

export function ggufMetadata(dump: LmDump): Record<string, GgufValue> {
  const c = dump.config;
  const t = dump.tokenizer;
  const llama: Record<string, number> = {
    context_length: c.ctx,
    embedding_length: c.dim,
    block_count: c.layers,
    feed_forward_length: c.ffn,
    "attention.head_count": c.heads,
    "attention.head_count_kv": c.heads,
    "rope.dimension_count": c.dim / c.heads,
    vocab_size: c.vocab,
  };
  return {
    "general.architecture": text("llama"),
    "general.name": text("xraygpt-mini"),
    "general.license": text("CC-BY-NC-ND-4.0"),
    ...Object.fromEntries(Object.entries(llama).map(([k, v]) => [`llama.${k}`, u32(v)])),
    "llama.attention.layer_norm_rms_epsilon": { type: "f32", value: c.eps },
    "llama.rope.freq_base": { type: "f32", value: c.rope_base },
    "tokenizer.ggml.model": text("llama"),
    "tokenizer.ggml.tokens": { type: "string[]", value: t.tokens },
    "tokenizer.ggml.scores": { type: "f32[]", value: t.scores },
    "tokenizer.ggml.token_type": { type: "i32[]", value: t.types },
    "tokenizer.ggml.bos_token_id": u32(t.bos),
    "tokenizer.ggml.eos_token_id": u32(t.eos),
    "tokenizer.ggml.unknown_token_id": u32(t.unk),
    "tokenizer.ggml.add_bos_token": { type: "bool", value: true },
    "tokenizer.ggml.add_eos_token": { type: "bool", value: false },
    "tokenizer.ggml.add_space_prefix": { type: "bool", value: true },
  };
}

/** Reads the dump and returns the GGUF metadata and tensors, checking sizes. */
export async function loadDump(jsonPath: string): Promise<{ metadata: Record<string, GgufValue>; tensors: GgufTensor[] }> {
  let dump: LmDump;
  try {
    dump = JSON.parse(await readFile(jsonPath, "utf8")) as LmDump;
  } catch (e) {
    throw new Error(`${jsonPath}: cannot read the LM dump (${(e as Error).message})`);
  }
  const binPath = jsonPath.replace(/\.json$/, ".bin");
  const bin = await readFile(binPath);
  const tensors = dump.tensors.map((t): GgufTensor => {
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (n !== t.count || t.offset + 4 * n > bin.length) throw new Error(`${binPath}: tensor ${t.name} (dims ${t.dims.join("×")}) does not fit the dump`);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = bin.readFloatLE(t.offset + 4 * i);
    return { name: t.name, dims: t.dims, dtype: "f32", data };
  });
  if (dump.tokenizer.tokens.length !== dump.config.vocab) throw new Error(`${jsonPath}: ${dump.tokenizer.tokens.length} tokens for a vocabulary of ${dump.config.vocab}`);
  return { metadata: ggufMetadata(dump), tensors };
}

export async function exportGguf(jsonPath: string, outPath: string): Promise<void> {
  const { metadata, tensors } = await loadDump(jsonPath);
  await writeGguf(outPath, metadata, tensors);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [dumpPath, outPath] = process.argv.slice(2);
  if (!dumpPath || !outPath) {
    console.error("usage: export-gguf.js DUMP.json OUT.gguf");
    process.exit(2);
  }
  exportGguf(dumpPath, outPath).then(
    () => console.log(`wrote ${outPath}`),
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}

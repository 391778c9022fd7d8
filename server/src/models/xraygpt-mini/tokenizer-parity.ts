/**
 * Tokenizer parity: node-llama-cpp's tokenization of texts with the bundled GGUF against the
 * SentencePiece model it was trained with (models/xraygpt-mini/tokenizer.model, via Python).
 */
import { spawnSync } from "node:child_process";
import type { LlamaModel } from "node-llama-cpp";
import { SYSTEM_PYTHON, TRAIN_DIR } from "./paths.js";

export interface ParityResult {
  checked: number;
  mismatches: { text: string; llama: number[]; spm: number[] }[];
}

/** SentencePiece ids (no BOS) of each text. */
export function spmEncode(texts: string[]): number[][] {
  const r = spawnSync(SYSTEM_PYTHON, [`${TRAIN_DIR}spm_encode.py`], { input: JSON.stringify(texts), encoding: "utf8", maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`spm_encode.py failed: ${(r.stderr || r.error?.message || "").trim().split("\n").slice(-2).join(" | ")}`);
  return JSON.parse(r.stdout) as number[][];
}

export function tokenizerParity(model: LlamaModel, texts: string[]): ParityResult {
  const expected = spmEncode(texts);
  const mismatches: ParityResult["mismatches"] = [];
  texts.forEach((text, i) => {
    const got = Array.from(model.tokenize(text)) as number[];
    const want = expected[i]!;
    if (got.length !== want.length || got.some((t, k) => t !== want[k])) mismatches.push({ text, llama: got, spm: want });
  });
  return { checked: texts.length, mismatches };
}

/** Tokenizer parity on every IU X-ray training report (findings + impression), for EVAL.md. */
import { join } from "node:path";
import { getLlama } from "node-llama-cpp";
import type { LoadedManifest } from "../models/manifest.js";
import { readCsvTable } from "../evaluate/csv.js";
import { referenceText } from "../evaluate/evaluate.js";
import { tokenizerParity, type ParityResult } from "../models/xraygpt-mini/tokenizer-parity.js";

export async function evaluateTokenizer(m: LoadedManifest, dataDir: string): Promise<ParityResult> {
  const table = readCsvTable(join(dataDir, "iu-xray", "reports.csv"));
  const texts = table.rows.filter((r) => r.split === "train").map((r) => referenceText(r, ["findings", "impression"])).filter(Boolean);
  const llama = await getLlama({ gpu: false, build: "never" });
  const model = await llama.loadModel({ modelPath: m.llmPath!, gpuLayers: 0, vocabOnly: true });
  try {
    return tokenizerParity(model, texts);
  } finally {
    await model.dispose();
  }
}

/**
 * End-to-end summaries of the sample radiographs through the engine (decode → vision → LLM), and
 * the chat's answer to one question about each.
 */
import { basename } from "node:path";
import { XrayEngine } from "../engine/engine.js";

export interface SampleSummary {
  file: string;
  findings: string;
  text: string;
  ms: number;
  /** The chat's answer to SAMPLE_QUESTION. */
  answer: string;
}

export const SAMPLE_QUESTION = "Is there pneumonia?";

export async function summarizeSamples(paths: string[]): Promise<SampleSummary[]> {
  const engine = new XrayEngine({ defaultModel: "xraygpt-mini", device: "cpu" });
  const out: SampleSummary[] = [];
  try {
    for (const image of paths) {
      const t0 = performance.now();
      const r = await engine.summarize({ image });
      const ms = performance.now() - t0;
      const chat = await engine.chat({ image, message: SAMPLE_QUESTION });
      out.push({ file: basename(image), findings: r.findings.conditioningText ?? "", text: r.text.trim(), ms, answer: chat.text.trim() });
    }
  } finally {
    await engine.dispose();
  }
  return out;
}

/** End-to-end summaries of the sample radiographs through the engine (decode → vision → LLM). */
import { basename } from "node:path";
import { XrayEngine } from "../engine/engine.js";

export interface SampleSummary {
  file: string;
  findings: string;
  text: string;
  ms: number;
}

export async function summarizeSamples(paths: string[]): Promise<SampleSummary[]> {
  const engine = new XrayEngine({ defaultModel: "xraygpt-mini", device: "cpu" });
  const out: SampleSummary[] = [];
  try {
    for (const image of paths) {
      const t0 = performance.now();
      const r = await engine.summarize({ image });
      out.push({ file: basename(image), findings: r.findings.conditioningText ?? "", text: r.text.trim(), ms: performance.now() - t0 });
    }
  } finally {
    await engine.dispose();
  }
  return out;
}

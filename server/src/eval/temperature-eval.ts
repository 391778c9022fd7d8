/**
 * The consensus candidates' sampling temperature, chosen on IU X-ray *train* studies (val is only
 * reported): a fixed sample of training studies (the first `n` by fnv1a32 of their uid), each
 * decoded from its findings line as the product does, at each temperature; ROUGE-L against the
 * study's own report. With the findings given the text depends only on the findings line, so each
 * distinct line is decoded once per temperature.
 */
import type { LoadedManifest } from "../models/manifest.js";
import { emptyLabels, rougeL } from "../metrics/index.js";
import { evalModelProcess, givenFindings, givenPrompt, plainReport, type Study } from "./language-eval.js";
import { fnv1a32 } from "./nih-eval.js";

export const TEMPERATURES = [0.5, 0.6, 0.7, 0.8, 1.0] as const;

export interface TemperatureScore {
  temperature: number;
  /** Mean ROUGE-L F over the sampled training studies. */
  rougeL: number;
  /** The text written for the all-negative findings line (most studies). */
  normalText: string;
}

export interface TemperatureEval {
  n: number;
  distinctLines: number;
  scores: TemperatureScore[];
  /** The temperature with the best mean ROUGE-L (the first of equals). */
  best: number;
}

/** The first `n` training studies in fnv1a32(uid) order: a fixed sample independent of file order. */
export function trainSample(train: Study[], n: number): Study[] {
  return [...train].sort((a, b) => fnv1a32(a.uid) - fnv1a32(b.uid) || (a.uid < b.uid ? -1 : 1)).slice(0, n);
}

export async function evaluateTemperatures(m: LoadedManifest, train: Study[], n = 500, log: (s: string) => void = () => {}): Promise<TemperatureEval> {
  const studies = trainSample(train, n);
  const conditions = studies.map((s) => givenFindings(s.labels, m));
  const lines = [...new Map(conditions.map((c) => [c.line, c])).values()];
  const normalLine = givenFindings({ ...emptyLabels(), "No Finding": 1 }, m).line;
  const scores: TemperatureScore[] = [];
  for (const temperature of TEMPERATURES) {
    const runner = evalModelProcess(m);
    const texts = new Map<string, string>();
    try {
      for (const { line, expected } of lines) {
        const done = await runner.generate(givenPrompt(m, line), { ...m.manifest.generation, candidateTemperature: temperature }, m.manifest.prompt.stop, { expected });
        texts.set(line, plainReport(done.text.trim()));
      }
    } finally {
      runner.stop();
    }
    const mean = studies.reduce((a, s, i) => a + rougeL(texts.get(conditions[i]!.line)!, s.reference).f, 0) / studies.length;
    scores.push({ temperature, rougeL: mean, normalText: texts.get(normalLine) ?? "" });
    log(`  candidate temperature ${temperature}: ROUGE-L ${mean.toFixed(4)} on ${studies.length} training studies`);
  }
  const best = scores.reduce((a, b) => (b.rougeL > a.rougeL ? b : a)).temperature;
  return { n: studies.length, distinctLines: lines.length, scores, best };
}

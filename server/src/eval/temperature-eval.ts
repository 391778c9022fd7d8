/**
 * The consensus decoding settings, chosen on IU X-ray *train* studies (val is only reported): a
 * fixed sample of training studies (the first `n` by fnv1a32 of their uid), each decoded from its
 * findings line as the product does, with each setting of `DECODINGS` and each candidate seed of
 * `SEEDS`; ROUGE-L against the study's own report. With the findings given the text depends only
 * on the findings line, so each distinct line is decoded once per setting and seed. One seed is
 * not enough: most studies share the all-negative line, whose one text moves the mean by a few
 * hundredths from one set of samples to the next.
 */
import type { SamplingSettings } from "../host/messages.js";
import { CONSENSUS_DEFAULTS } from "../host/candidates.js";
import type { LoadedManifest } from "../models/manifest.js";
import { emptyLabels, rougeL } from "../metrics/index.js";
import { evalModelProcess, givenFindings, givenPrompt, isNormal, plainReport, type Study } from "./language-eval.js";
import { fnv1a32 } from "./nih-eval.js";

export interface Decoding {
  name: string;
  settings: Partial<SamplingSettings>;
}

/**
 * A setting compared: `candidates` in all, the last `evidence` of them evidence samples at 1.0, the
 * others (the greedy one among them) answers at `temperature`; named by what it is.
 */
function decoding(candidates: number, temperature: number, evidence: number): Decoding {
  const t = temperature.toFixed(1);
  return evidence === 0
    ? { name: `${candidates} at ${t}, each scored against the others`, settings: { candidates, candidateTemperature: temperature, evidenceCandidates: 0 } }
    : { name: `${candidates - evidence} at ${t}, scored against ${evidence} evidence samples at 1.0`, settings: { candidates, candidateTemperature: temperature, evidenceCandidates: evidence, evidenceTemperature: 1.0 } };
}

/** What is compared: the candidates' temperature, and whether some are evidence (and how many). */
export const DECODINGS: readonly Decoding[] = [
  decoding(64, 1.0, 0),
  decoding(64, 0.6, 0),
  ...[0.2, 0.4, 0.6, 0.8].map((t) => decoding(64, t, 24)),
  ...[0.4, 0.6].map((t) => decoding(88, t, 48)),
];

/** The candidates' base seeds (candidate k samples with seed + k). */
export const SEEDS = [0, 1000, 2000, 3000] as const;

export interface DecodingScore {
  name: string;
  settings: Partial<SamplingSettings>;
  /** Mean ROUGE-L F over the sampled training studies, per seed (SEEDS order). */
  bySeed: number[];
  mean: number;
  /** Means over the seeds for the studies with no positive finding and the others. */
  normal: number;
  abnormal: number;
  /** The text written for the all-negative findings line, at seed 0. */
  normalText: string;
}

export interface TemperatureEval {
  n: number;
  distinctLines: number;
  seeds: readonly number[];
  scores: DecodingScore[];
  /** The setting with the best mean ROUGE-L over the seeds (the first of equals). */
  best: string;
}

/** The first `n` training studies in fnv1a32(uid) order: a fixed sample independent of file order. */
export function trainSample(train: Study[], n: number): Study[] {
  return [...train].sort((a, b) => fnv1a32(a.uid) - fnv1a32(b.uid) || (a.uid < b.uid ? -1 : 1)).slice(0, n);
}

/** Whether `generation` has every setting of `d` (so the manifest ships it). */
export function ships(generation: Partial<SamplingSettings>, d: Decoding): boolean {
  const resolved: Partial<SamplingSettings> = { ...CONSENSUS_DEFAULTS, ...generation };
  return Object.entries(d.settings).every(([k, v]) => resolved[k as keyof SamplingSettings] === v);
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export async function evaluateTemperatures(m: LoadedManifest, train: Study[], n = 500, log: (s: string) => void = () => {}): Promise<TemperatureEval> {
  const studies = trainSample(train, n);
  const conditions = studies.map((s) => givenFindings(s.labels, m));
  const lines = [...new Map(conditions.map((c) => [c.line, c])).values()];
  const normalLine = givenFindings({ ...emptyLabels(), "No Finding": 1 }, m).line;
  const normal = studies.map(isNormal);
  // Two model processes (one thread each) share the runs.
  const runs = DECODINGS.flatMap((d) => SEEDS.map((seed) => ({ d, seed })));
  const scores = new Map<string, number[][]>();
  const normalTexts = new Map<string, string>();
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      const runner = evalModelProcess(m);
      try {
        for (let r = next++; r < runs.length; r = next++) {
          const { d, seed } = runs[r]!;
          const texts = new Map<string, string>();
          for (const { line, expected } of lines) {
            const done = await runner.generate(givenPrompt(m, line), { ...m.manifest.generation, ...d.settings, seed }, m.manifest.prompt.stop, { expected });
            texts.set(line, plainReport(done.text.trim()));
          }
          const f = studies.map((s, i) => rougeL(texts.get(conditions[i]!.line)!, s.reference).f);
          if (!scores.has(d.name)) scores.set(d.name, SEEDS.map(() => []));
          scores.get(d.name)![SEEDS.indexOf(seed)] = f;
          if (seed === SEEDS[0]) normalTexts.set(d.name, texts.get(normalLine) ?? "");
          log(`  ${d.name}, seed ${seed}: ROUGE-L ${mean(f).toFixed(4)} on ${studies.length} training studies`);
        }
      } finally {
        runner.stop();
      }
    }),
  );
  const result: DecodingScore[] = DECODINGS.map((d) => {
    const f = scores.get(d.name)!;
    const subset = (keep: boolean) => mean(f.map((xs) => mean(xs.filter((_, i) => normal[i] === keep))));
    return { name: d.name, settings: d.settings, bySeed: f.map(mean), mean: mean(f.map(mean)), normal: subset(true), abnormal: subset(false), normalText: normalTexts.get(d.name) ?? "" };
  });
  const best = result.reduce((a, b) => (b.mean > a.mean ? b : a)).name;
  return { n: studies.length, distinctLines: lines.length, seeds: SEEDS, scores: result, best };
}

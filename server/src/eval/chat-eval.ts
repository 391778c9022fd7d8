/**
 * Chat answers on IU X-ray val with the findings given: yes/no questions about one observation,
 * asked as the first turn with all 14 observations in the findings line, decoded as the manifest
 * sets it (consensus decoding checks answers with `complete: false`, as the daemon's chat does).
 * An answer agrees when the label extractor reads the asked observation in it as the line gives
 * it: positive or uncertain for a given positive, negative for a given negative.
 */
import type { LoadedManifest } from "../models/manifest.js";
import { addresses, askedAbout, extractLabels, type Observation } from "../metrics/index.js";
import { evalModelProcess, givenFindings, givenPrompt, plainReport, positive, type Study } from "./language-eval.js";

export const QUESTIONS: ReadonlyArray<readonly [string, Observation]> = [
  ["Is there a pleural effusion?", "Pleural Effusion"],
  ["Is there pneumonia?", "Pneumonia"],
  ["Is the heart enlarged?", "Cardiomegaly"],
  ["Is there a pneumothorax?", "Pneumothorax"],
  ["Are there any support devices?", "Support Devices"],
  ["Is there a nodule or mass?", "Lung Lesion"],
];

export interface QuestionScore {
  question: string;
  observation: Observation;
  /** Studies given the observation as positive, and how many answers agree. */
  positives: { n: number; agree: number };
  negatives: { n: number; agree: number };
  /** Answers that say nothing about the observation asked (text-checks.ts addresses). */
  offTopic: number;
  offTopicExample?: string;
}

/** Whether an answer states the observation as the findings line gives it. */
export function answerAgrees(answer: string, observation: Observation, givenPositive: boolean): boolean {
  const v = extractLabels(answer)[observation];
  return givenPositive ? positive(v) : v === 0;
}

/** Per question: every val study given the observation as positive, and the first `negatives` given it as negative. */
export async function evaluateChat(m: LoadedManifest, val: Study[], negatives = 40, log: (s: string) => void = () => {}): Promise<QuestionScore[]> {
  const runner = evalModelProcess(m);
  const out: QuestionScore[] = [];
  try {
    for (const [question, observation] of QUESTIONS) {
      const pos = val.filter((s) => positive(s.labels[observation]));
      const neg = val.filter((s) => !positive(s.labels[observation])).slice(0, negatives);
      const score: QuestionScore = { question, observation, positives: { n: pos.length, agree: 0 }, negatives: { n: neg.length, agree: 0 }, offTopic: 0 };
      for (const [studies, isPositive] of [[pos, true], [neg, false]] as const) {
        for (const s of studies) {
          const { line, expected } = givenFindings(s.labels, m);
          const done = await runner.generate(givenPrompt(m, line, question), m.manifest.generation, m.manifest.prompt.stop, { expected: { ...expected, complete: false, asked: askedAbout(question) } });
          const answer = plainReport(done.text);
          if (answerAgrees(answer, observation, isPositive)) (isPositive ? score.positives : score.negatives).agree++;
          if (!addresses(answer, observation)) {
            score.offTopic++;
            score.offTopicExample ??= answer;
          }
        }
      }
      log(`  ${question} given positive ${score.positives.agree}/${score.positives.n}, given negative ${score.negatives.agree}/${score.negatives.n}, off topic ${score.offTopic}`);
      out.push(score);
    }
  } finally {
    runner.stop();
  }
  return out;
}

/**
 * What both text engines of the model process share (node-llama-cpp in host-main.ts, the
 * project's addon in text-host.ts): the candidates' sampling settings, the streamed draft
 * (candidate 0's text as it is generated, provisional while other candidates run), and the
 * answer: chosen by consensus, sent as a `replace` token, then `done`.
 */
import type { StopReason } from "@xraygpt/protocol";
import { STREAM_INTERVAL_MS, type FromHost, type SamplingSettings, type ToHost } from "./messages.js";
import { placedFindings } from "../metrics/index.js";
import { chooseCandidate, disagreement, impressionGaps, impressionOf, unanswered, withoutContradictingSentences, withoutRepeatedSentences, type ExpectedFindings } from "./consensus.js";
import { scanStops } from "./stop-strings.js";

/** The consensus settings a manifest or request may leave out, as every engine reads them. */
export const CONSENSUS_DEFAULTS = { candidateTemperature: 1, evidenceCandidates: 0, evidenceTemperature: 1, candidateQuorum: 1 } as const;

/**
 * The settings of each candidate: the first uses the settings as given, the others are sampled
 * from the whole distribution (no top-k / top-p cut) with seeds seed+1, seed+2, ...: at
 * `candidateTemperature`, the last `evidenceCandidates` of them at `evidenceTemperature`.
 */
export function candidateSettings(settings: SamplingSettings): SamplingSettings[] {
  const n = settings.candidates ?? 1;
  const answers = answerCandidates(settings);
  const { candidateTemperature, evidenceTemperature } = { ...CONSENSUS_DEFAULTS, ...settings };
  const temperature = (k: number) => (k < answers ? candidateTemperature : evidenceTemperature);
  return Array.from({ length: n }, (_, k) => (k === 0 ? settings : { ...settings, temperature: temperature(k), topK: 0, topP: 1, seed: settings.seed + k }));
}

/**
 * A second round's candidates, when no candidate of the first agrees with the findings line: n - 1
 * samples at the evidence temperature with the seeds after the first round's.
 */
export function retrySettings(settings: SamplingSettings): SamplingSettings[] {
  const n = settings.candidates ?? 1;
  return candidateSettings({ ...settings, seed: settings.seed + n - 1, candidateTemperature: settings.evidenceTemperature ?? CONSENSUS_DEFAULTS.evidenceTemperature, evidenceCandidates: 0 }).slice(1);
}

/**
 * Whether the chosen text calls for a second round (retrySettings): it contradicts the findings
 * line, or it is an answer that says nothing about what was asked ("Are there any support
 * devices?" → "Yes. There is an airspace opacity."), so no candidate of the first round did both.
 */
export function wantsSecondRound(text: string, expected: ExpectedFindings): boolean {
  return disagreement(text, expected).contradictions > 0 || unanswered(text, expected) > 0;
}

/**
 * Whether a summary's impression is written again after its findings: it has none, it leaves a
 * given positive unsaid, or it places a finding where nothing placed it ("Right upper lobe
 * pneumonia."). Never for a chat answer.
 */
export function wantsNewImpression(text: string, expected: ExpectedFindings): boolean {
  return expected.complete !== false && (impressionGaps(text, expected) > 0 || placedFindings(impressionOf(text) ?? "") > 0);
}

/**
 * The evidence candidates for `candidates` when only the candidate count is given (a request,
 * an evaluation variant): the fraction `d` has (64 with 24 evidence → 32 with 12, 1 with none).
 */
export function scaledEvidence(d: SamplingSettings, candidates: number): number {
  const e = d.evidenceCandidates ?? CONSENSUS_DEFAULTS.evidenceCandidates;
  const n = d.candidates ?? 1;
  return Number.isInteger(candidates) && candidates > 1 && e > 0 ? Math.min(candidates - 1, Math.floor((e * candidates) / n)) : 0;
}

/** How many of the candidates are answers, not evidence (at least one: candidate 0). */
export function answerCandidates(settings: SamplingSettings): number {
  const n = settings.candidates ?? 1;
  return Math.max(1, n - (settings.evidenceCandidates ?? CONSENSUS_DEFAULTS.evidenceCandidates));
}

/**
 * Of `n` candidates, how many must finish before the stragglers (all but candidate 0) are cut:
 * candidateQuorum of them, rounded up (all when unset).
 */
export function candidateQuorum(settings: SamplingSettings, n = settings.candidates ?? 1): number {
  return Math.min(n, Math.max(1, Math.ceil((settings.candidateQuorum ?? CONSENSUS_DEFAULTS.candidateQuorum) * n)));
}

/**
 * The quorums of a consensus batch: candidateQuorum of the answer candidates, and every
 * evidence one. Evidence is what the answers are scored against, an estimate of what the
 * model says: cutting its stragglers would leave only its shortest samples and favour short
 * answers (on IU X-ray train studies, answers at 0.6: ROUGE-L 0.285 with 75% of the evidence
 * against 0.293 with all of it, mean of four seed windows).
 */
export function candidateQuorums(settings: SamplingSettings): { quorum: number; evidenceFrom?: number; evidenceQuorum?: number } {
  const n = settings.candidates ?? 1;
  const answers = answerCandidates(settings);
  if (answers >= n) return { quorum: candidateQuorum(settings, n) };
  return { quorum: candidateQuorum(settings, answers), evidenceFrom: answers, evidenceQuorum: n - answers };
}

/**
 * Streams one candidate's text as token messages: only text that cannot be the start of a stop
 * string, at most every STREAM_INTERVAL_MS (and at once when a stop string completes).
 * With `provisional`, the messages are marked as the provisional draft.
 */
export class DraftStream {
  private text = "";
  private emitted = 0;
  private lastSend = 0;

  constructor(
    private readonly id: number,
    private readonly stop: readonly string[],
    private readonly send: (m: FromHost) => void,
    private readonly provisional: boolean,
  ) {}

  /** Adds text; returns where a stop string starts in the text so far (-1: none). */
  push(piece: string, index: number): number {
    this.text += piece;
    const scan = scanStops(this.text, this.stop);
    const end = scan.stopAt >= 0 ? scan.stopAt : scan.safeEnd;
    const now = performance.now();
    if (end > this.emitted && (now - this.lastSend >= STREAM_INTERVAL_MS || scan.stopAt >= 0)) {
      this.emit(this.text.slice(this.emitted, end), index);
      this.emitted = end;
      this.lastSend = now;
    }
    return scan.stopAt;
  }

  /** The candidate ended with `text`: sends what of it was not sent yet. */
  finish(text: string, index: number): void {
    if (text.length > this.emitted) this.emit(text.slice(this.emitted), index);
    this.emitted = Math.max(this.emitted, text.length);
  }

  private emit(text: string, index: number): void {
    this.send({ type: "token", id: this.id, text, index, ...(this.provisional ? { provisional: true } : {}) });
  }
}

export interface Sample {
  text: string;
  tokens: number;
  /** "cut": a straggler stopped once the quorum had finished; it is never the answer. */
  stopReason: StopReason | "cut";
}

/**
 * The answer among the finished candidates (candidate 0 always finishes; `samples` in candidate
 * order), scored against the finished evidence ones when there are any (chooseCandidate); `more`
 * (a second round's, retrySettings) are evidence too. When cancelled, the draft so far
 * (candidate 0).
 */
export function chooseSample<S extends Sample>(m: Extract<ToHost, { type: "generate" }>, samples: readonly S[], more: readonly S[] = []): S {
  const n = m.settings.candidates ?? 1;
  if (n === 1 || samples.some((s) => s.stopReason === "cancelled")) return samples[0]!;
  const answers = answerCandidates(m.settings);
  const finished = (xs: readonly S[]) => xs.filter((s) => s.stopReason !== "cut");
  const answered = finished(samples.slice(0, answers));
  const choices = [...answered, ...finished([...samples.slice(answers), ...more])];
  return choices[chooseCandidate(choices.map((s) => s.text), m.expected, answered.length)]!;
}

/**
 * chooseSample; when the answer still contradicts the findings line (no candidate agrees with it:
 * "The heart is enlarged." in every sample of a line giving an enlarged cardiomediastinum alone),
 * the choice again among the candidates without their sentences that contradict the line on their
 * own (withoutContradictingSentences).
 */
export function chooseAgreeing<S extends Sample>(m: Extract<ToHost, { type: "generate" }>, samples: readonly S[], more: readonly S[] = []): S {
  const chosen = chooseSample(m, samples, more);
  const expected = m.expected;
  if (!expected || chosen.stopReason === "cancelled" || disagreement(chosen.text, expected).contradictions === 0) return chosen;
  const edit = (x: S): S => ({ ...x, text: withoutContradictingSentences(x.text, expected) });
  return chooseSample(m, samples.map(edit), more.map(edit));
}

/**
 * Picks the answer of a finished (or cancelled) generation and sends it: with several candidates
 * the chosen text, without the sentences it repeats word for word, replaces the provisional
 * draft; then `done`.
 */
export function finishGeneration(
  m: Extract<ToHost, { type: "generate" }>,
  samples: readonly Sample[],
  totals: { promptTokens: number; reusedTokens: number; promptMs: number; generateMs: number },
  send: (m: FromHost) => void,
  chosen: Sample = chooseSample(m, samples),
  /** Tokens sampled beyond the candidates (an impression written after the chosen findings). */
  moreSampledTokens = 0,
): void {
  const n = m.settings.candidates ?? 1;
  const cancelled = samples.some((s) => s.stopReason === "cancelled");
  const stopReason: StopReason = cancelled ? "cancelled" : chosen.stopReason === "cut" ? "maxTokens" : chosen.stopReason;
  // The provisional draft becomes the answer (also when cancelled: then it is the draft itself).
  const text = n > 1 ? withoutRepeatedSentences(chosen.text) : chosen.text;
  if (n > 1) send({ type: "token", id: m.id, text, index: chosen.tokens, replace: true });
  send({
    type: "done",
    id: m.id,
    text,
    stopReason,
    tokens: chosen.tokens,
    sampledTokens: samples.reduce((a, s) => a + s.tokens, moreSampledTokens),
    candidates: samples.length,
    ...totals,
  });
}

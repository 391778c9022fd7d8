/**
 * The candidates' quorum and the choice among them: a straggler cut once the quorum finished is
 * never the answer, whatever its text.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { answerCandidates, candidateQuorum, candidateQuorums, candidateSettings, chooseAgreeing, chooseSample, finishGeneration, retrySettings, scaledEvidence, wantsNewImpression, wantsSecondRound, type Sample } from "./candidates.js";
import { chooseCandidate, disagreement } from "./consensus.js";
import type { FromHost, SamplingSettings, ToHost } from "./messages.js";

const BASE: SamplingSettings = { maxTokens: 20, temperature: 0, topP: 1, topK: 1, repeatPenalty: 1, seed: 0, candidates: 8 };

test("the quorum is the fraction of the candidates, rounded up, at least 1 and at most all", () => {
  assert.equal(candidateQuorum(BASE), 8, "unset: every candidate finishes");
  assert.equal(candidateQuorum({ ...BASE, candidateQuorum: 0.75 }), 6);
  assert.equal(candidateQuorum({ ...BASE, candidateQuorum: 0.7 }), 6);
  assert.equal(candidateQuorum({ ...BASE, candidateQuorum: 0.01 }), 1);
  assert.equal(candidateQuorum({ ...BASE, candidateQuorum: 0.75 }, 16), 12, "of another count (the impression's candidates)");
  assert.equal(candidateQuorum({ ...BASE, candidates: 1, candidateQuorum: 0.5 }), 1);
});

test("a cut candidate is never chosen, even the one the others agree with most", () => {
  const texts = ["The lungs are clear.", "Heart size is normal. The lungs are clear.", "The lungs are clear. No effusion.", "Heart size is normal. The lungs are clear. No effusion."];
  const full = texts.map((text, i): Sample => ({ text, tokens: 10 + i, stopReason: "eos" }));
  const m: Extract<ToHost, { type: "generate" }> = { type: "generate", id: 1, prompt: "p", settings: { ...BASE, candidates: texts.length }, stop: [] };
  const best = chooseCandidate(texts);
  assert.equal(chooseSample(m, full), full[best]);
  const cut = full.map((s, i) => (i === best ? { ...s, stopReason: "cut" as const } : s));
  const chosen = chooseSample(m, cut);
  assert.notEqual(chosen.stopReason, "cut");
  const rest = full.filter((_, i) => i !== best);
  assert.equal(chosen.text, rest[chooseCandidate(rest.map((s) => s.text))]!.text, "the consensus of those that finished");
});

test("evidence candidates: the last ones, sampled at their own temperature, with their own seeds", () => {
  const s = candidateSettings({ ...BASE, candidates: 6, candidateTemperature: 0.6, evidenceCandidates: 2, evidenceTemperature: 1 });
  assert.deepEqual(s.map((x) => x.temperature), [0, 0.6, 0.6, 0.6, 1, 1]);
  assert.deepEqual(s.map((x) => x.seed), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(s.slice(1).map((x) => [x.topK, x.topP]), Array(5).fill([0, 1]), "sampled from the whole distribution");
  assert.equal(answerCandidates({ ...BASE, candidates: 6, evidenceCandidates: 2 }), 4);
  assert.equal(answerCandidates({ ...BASE, candidates: 6 }), 6, "none by default");
  assert.equal(answerCandidates({ ...BASE, candidates: 2, evidenceCandidates: 5 }), 1, "candidate 0 is always an answer");
  assert.deepEqual(candidateSettings({ ...BASE, candidates: 3, candidateTemperature: 0.7 }).map((x) => x.temperature), [0, 0.7, 0.7]);
});

test("answers are scored against the evidence alone; evidence is the answer only when it passes the checks better", () => {
  // Among the answers, the two alike would win by agreeing with each other; the evidence
  // agrees with the third.
  const answers = ["There is no pleural effusion.", "There is no pleural effusion.", "The heart is normal in size. The lungs are clear."];
  const evidence = ["The heart is normal in size. The lungs are clear.", "The heart is normal. The lungs are clear.", "The lungs are clear. Heart size is normal."];
  const samples = [...answers, ...evidence].map((text, i): Sample => ({ text, tokens: 10 + i, stopReason: "eos" }));
  const settings = { ...BASE, candidates: samples.length, evidenceCandidates: evidence.length };
  const m: Extract<ToHost, { type: "generate" }> = { type: "generate", id: 1, prompt: "p", settings, stop: [] };
  assert.equal(chooseCandidate(answers), 0, "without evidence: the answers' own consensus");
  assert.equal(chooseSample(m, samples), samples[2], "with it: the answer the evidence agrees with");
  // An evidence text that matches the evidence best is still not the answer when an answer
  // does as well on the checks.
  const closer = [...answers, ...evidence.slice(0, 2), evidence[0]!].map((text, i): Sample => ({ text, tokens: i, stopReason: "eos" }));
  assert.ok(closer.indexOf(chooseSample(m, closer)) < answers.length);
  // Every answer contradicts the findings line, one evidence sample does not: it is the answer.
  const expected = { present: ["Pneumonia"], absent: ["Atelectasis"] };
  const wrong = ["Findings: There is atelectasis. Impression: Pneumonia.", "Findings: There is atelectasis. Impression: Pneumonia.", "Findings: There is atelectasis. Impression: Pneumonia."];
  const hot = ["Findings: There is atelectasis. Impression: Pneumonia.", "Findings: There is pneumonia. Impression: Pneumonia.", "Findings: There is atelectasis. Impression: Pneumonia."];
  const mixed = [...wrong, ...hot].map((text, i): Sample => ({ text, tokens: i, stopReason: "eos" }));
  assert.equal(chooseSample({ ...m, expected }, mixed), mixed[4]);
  assert.equal(chooseSample({ ...m, expected: { present: ["Pneumonia"], absent: [] } }, mixed), mixed[0], "equal on the checks: an answer");
  // A cut evidence sample is not evidence; with none finished the answers' own consensus decides.
  const cut = samples.map((s, i) => (i >= answers.length ? { ...s, stopReason: "cut" as const } : s));
  assert.equal(chooseSample(m, cut), cut[0]);
});

test("with evidence candidates, the quorum counts the answers; every evidence candidate finishes", () => {
  assert.deepEqual(candidateQuorums({ ...BASE, candidates: 64, candidateQuorum: 0.75, evidenceCandidates: 24 }), { quorum: 30, evidenceFrom: 40, evidenceQuorum: 24 });
  assert.deepEqual(candidateQuorums({ ...BASE, candidates: 64, candidateQuorum: 0.75 }), { quorum: 48 });
  assert.deepEqual(candidateQuorums({ ...BASE, candidates: 8, evidenceCandidates: 0 }), { quorum: 8 });
});

test("a second round: n - 1 samples at the evidence temperature, seeds after the first round's, evidence in the choice", () => {
  const settings = { ...BASE, seed: 10, candidates: 6, candidateTemperature: 0.8, evidenceCandidates: 2, evidenceTemperature: 1.2 };
  const first = candidateSettings(settings);
  const again = retrySettings(settings);
  assert.equal(again.length, 5);
  assert.ok(again.every((s) => s.temperature === 1.2 && s.topK === 0 && s.topP === 1));
  const seeds = new Set([...first, ...again].map((s) => s.seed));
  assert.equal(seeds.size, first.length + again.length, "no seed of the first round again");
  // Every first-round candidate contradicts the line; a second-round one does not: it is the answer.
  const expected = { present: ["Pneumothorax"], absent: ["Pleural Effusion"] };
  const m: Extract<ToHost, { type: "generate" }> = { type: "generate", id: 1, prompt: "p", settings, stop: [], expected };
  const wrong = Array.from({ length: 6 }, (_, i): Sample => ({ text: "Findings: There is a pleural effusion. Impression: Pneumothorax.", tokens: i, stopReason: "eos" }));
  const more = ["Findings: There is a pleural effusion. Impression: Pleural effusion.", "Findings: There is a small right pneumothorax. Impression: Pneumothorax."].map((text): Sample => ({ text, tokens: 9, stopReason: "eos" }));
  assert.equal(chooseSample(m, wrong), wrong[0]);
  assert.equal(chooseSample(m, wrong, more), more[1]);
  assert.equal(chooseSample(m, wrong, [{ ...more[1]!, stopReason: "cut" }]), wrong[0], "a cut one is not a candidate");
});

test("when no candidate agrees with the line, the choice is made among them without their contradicting sentences", () => {
  const settings = { ...BASE, candidates: 4, candidateTemperature: 0.8, evidenceCandidates: 2 };
  const expected = { present: ["Enlarged Cardiomediastinum"], absent: ["Cardiomegaly", "Pleural Effusion"] };
  const m: Extract<ToHost, { type: "generate" }> = { type: "generate", id: 2, prompt: "p", settings, stop: [], expected };
  const s = (text: string): Sample => ({ text, tokens: 7, stopReason: "eos" });
  const samples = [
    s("Findings: The heart is enlarged. There is a pleural effusion. Impression: Cardiomegaly."),
    s("Findings: The heart is enlarged. The cardiomediastinal silhouette is enlarged. No pleural effusion. Impression: Enlarged cardiomediastinal silhouette."),
    s("Findings: The heart is enlarged. The cardiomediastinal silhouette is enlarged. The lungs are clear. Impression: Enlarged cardiomediastinal silhouette."),
    s("Findings: There is cardiomegaly. The cardiomediastinal silhouette is enlarged. No pleural effusion. Impression: Enlarged cardiomediastinal silhouette."),
  ];
  assert.ok(disagreement(chooseSample(m, samples).text, expected).contradictions > 0, "every candidate contradicts the line");
  const chosen = chooseAgreeing(m, samples);
  assert.equal(chosen.text, "Findings: The cardiomediastinal silhouette is enlarged. No pleural effusion. Impression: Enlarged cardiomediastinal silhouette.");
  assert.equal(chosen.tokens, 7);
  // A candidate that agrees is chosen as it is; without a findings line nothing is edited.
  const agreeing = [samples[0]!, s("Findings: The mediastinum is widened. Impression: Enlarged cardiomediastinal silhouette."), samples[2]!];
  assert.equal(chooseAgreeing({ ...m, settings: { ...settings, candidates: 3, evidenceCandidates: 1 } }, agreeing), agreeing[1]);
  const { expected: _, ...plain } = m;
  assert.equal(chooseAgreeing(plain, samples), chooseSample(plain, samples));
});

test("the answer replacing the draft leaves out a sentence it repeats; one streamed generation is sent as it was", () => {
  const text = "Findings: There is a pleural effusion. There is a pleural effusion. Impression: Pleural effusion.";
  const sent = (candidates: number) => {
    const out: FromHost[] = [];
    const m: Extract<ToHost, { type: "generate" }> = { type: "generate", id: 3, prompt: "p", settings: { ...BASE, candidates }, stop: [] };
    const samples = Array.from({ length: candidates }, (): Sample => ({ text, tokens: 12, stopReason: "eos" }));
    finishGeneration(m, samples, { promptTokens: 1, reusedTokens: 0, promptMs: 1, generateMs: 1 }, (x) => out.push(x));
    return out.map((x) => ("text" in x ? [x.type, x.text] : [x.type]));
  };
  const once = "Findings: There is a pleural effusion. Impression: Pleural effusion.";
  assert.deepEqual(sent(2), [["token", once], ["done", once]]);
  assert.deepEqual(sent(1), [["done", text]]);
});

test("a request that sets candidates but not evidence gets the manifest's fraction of evidence", () => {
  const d = { maxTokens: 8, temperature: 0, topP: 1, topK: 1, repeatPenalty: 1, seed: 0, candidates: 64, evidenceCandidates: 24 };
  assert.equal(scaledEvidence(d, 64), 24);
  assert.equal(scaledEvidence(d, 32), 12);
  assert.equal(scaledEvidence(d, 4), 1);
  assert.equal(scaledEvidence(d, 2), 0);
  assert.equal(scaledEvidence(d, 1), 0, "one candidate: plain decoding");
  assert.equal(scaledEvidence({ ...d, evidenceCandidates: 0 }, 32), 0);
  assert.equal(scaledEvidence({ ...d, candidates: 2, evidenceCandidates: 1 }, 64), 32);
});

test("a second round is wanted when the chosen text contradicts the line or leaves what was asked unaddressed", () => {
  const summary = { present: ["Pneumonia"], absent: ["Pleural Effusion"] };
  assert.equal(wantsSecondRound("Findings: There is pneumonia. Impression: Pneumonia.", summary), false);
  assert.equal(wantsSecondRound("Findings: There is a pleural effusion. Impression: Pneumonia.", summary), true);
  const answer = { present: ["Support Devices", "Lung Opacity"], absent: ["Cardiomegaly"], complete: false, asked: ["Support Devices"] };
  assert.equal(wantsSecondRound("Yes. There is an airspace opacity.", answer), true, "agrees with the line, but not about the devices");
  assert.equal(wantsSecondRound("Yes, there are support devices.", answer), false);
  assert.equal(wantsSecondRound("Yes, there is a right chest tube.", answer), false);
});

test("a summary's impression is written again when it is missing, leaves a given positive unsaid or places a finding; an answer's never", () => {
  const summary = { present: ["Pneumonia"], absent: ["Pleural Effusion"] };
  assert.equal(wantsNewImpression("Findings: There is pneumonia. Impression: Pneumonia.", summary), false);
  assert.equal(wantsNewImpression("Findings: There is pneumonia.", summary), true, "no impression");
  assert.equal(wantsNewImpression("Findings: There is pneumonia. Impression: No pleural effusion.", summary), true, "pneumonia unsaid");
  assert.equal(wantsNewImpression("Findings: There is pneumonia. Impression: Right upper lobe pneumonia.", summary), true, "placed");
  assert.equal(wantsNewImpression("Findings: Left lower lobe pneumonia. Impression: Pneumonia.", summary), false, "only the impression is written again");
  assert.equal(wantsNewImpression("Yes, there is pneumonia.", { ...summary, complete: false }), false);
});

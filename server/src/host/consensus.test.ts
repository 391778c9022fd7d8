import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { askedAbout } from "../metrics/index.js";
import { allowedWords, chooseCandidate, consensusScores, disagreement, findingsOf, impressionGaps, lexicon, positivesPhrase, repeatedSentences, saysNothingAbnormal, uncertainStated, withoutContradictingSentences, withoutRepeatedSentences } from "./consensus.js";
import { extractLabels } from "../metrics/index.js";

test("consensus picks the candidate closest to all the others", () => {
  const c = [
    "There is a large left pleural effusion.",
    "The lungs are clear. No pleural effusion or pneumothorax.",
    "The lungs are clear. There is no pleural effusion or pneumothorax. The heart is normal.",
    "The lungs are clear. No pneumothorax or pleural effusion.",
  ];
  assert.equal(chooseCandidate(c), 1);
  // Order does not matter: the same text wins wherever it stands.
  assert.equal(chooseCandidate([c[3]!, c[0]!, c[1]!, c[2]!]), 2);
});

test("consensus ties go to the first candidate; one candidate is its own consensus", () => {
  assert.equal(chooseCandidate(["same words here", "same words here", "same words here"]), 0);
  assert.equal(chooseCandidate(["only"]), 0);
  assert.equal(chooseCandidate(["a b", "c d"]), 0);
});

test("disagreement counts contradictions and omissions of the expected findings (label extractor)", () => {
  const expected = { present: ["Pleural Effusion", "Cardiomegaly"], absent: ["Pneumothorax", "Edema"] };
  assert.deepEqual(disagreement("There is a small left pleural effusion. The heart is enlarged. No pneumothorax.", expected), { contradictions: 0, omissions: 0 });
  assert.deepEqual(disagreement("There is a small left pleural effusion. The lungs are clear.", expected), { contradictions: 0, omissions: 1 });
  assert.deepEqual(disagreement("No pleural effusion. There is a right pneumothorax. Pulmonary edema.", expected), { contradictions: 3, omissions: 1 });
  // "No acute disease" contradicts a given acute finding, but not a chronic one.
  const pneumonia = { present: ["Pneumonia"], absent: [] };
  assert.deepEqual(disagreement("There is pneumonia. Impression: No acute cardiopulmonary findings.", pneumonia), { contradictions: 1, omissions: 0 });
  assert.deepEqual(disagreement("There is pneumonia. Impression: Right lower lobe pneumonia.", pneumonia), { contradictions: 0, omissions: 0 });
  assert.deepEqual(disagreement("The heart is enlarged. No acute cardiopulmonary findings.", { present: ["Cardiomegaly"], absent: [] }), { contradictions: 0, omissions: 0 });
  assert.deepEqual(disagreement("There is pneumonia. The heart is normal in size. No acute bony abnormality.", pneumonia), { contradictions: 0, omissions: 0 });
  // One sentence states what another denies.
  assert.deepEqual(disagreement("The heart is enlarged. The heart size is normal.", { present: ["Cardiomegaly"], absent: [] }), { contradictions: 1, omissions: 0 });
  // "Not assessed" of an assessed finding contradicts the line; a question's answer may omit positives.
  assert.deepEqual(disagreement("Pneumonia was not assessed.", pneumonia), { contradictions: 1, omissions: 1 });
  assert.deepEqual(disagreement("Pneumonia was not assessed.", { present: [], absent: ["Pneumonia"] }), { contradictions: 1, omissions: 0 });
  assert.deepEqual(disagreement("Heart size was not assessed.", pneumonia), { contradictions: 0, omissions: 1 });
  assert.deepEqual(disagreement("Heart size was not assessed.", { ...pneumonia, complete: false }), { contradictions: 0, omissions: 0 });
  // Labels outside the CheXpert observations are not checked.
  assert.deepEqual(disagreement("The lungs are clear.", { present: ["Tuberculosis"], absent: [] }), { contradictions: 0, omissions: 0 });
});

test("a summary ends with an impression naming the given positives; a chat answer need not", () => {
  const pneumonia = { present: ["Pneumonia", "Pleural Effusion"], absent: [] };
  assert.equal(impressionGaps("There is pneumonia. There is a pleural effusion.", pneumonia), 1);
  assert.equal(impressionGaps("There is pneumonia. There is a pleural effusion. Impression:", pneumonia), 1);
  assert.equal(impressionGaps("There is pneumonia. There is a pleural effusion. Impression: Pneumonia.", pneumonia), 1);
  assert.equal(impressionGaps("There is pneumonia. Pleural effusion. Impression: Pneumonia with a pleural effusion.", pneumonia), 0);
  assert.equal(impressionGaps("The lungs are clear. Impression: No acute disease.", { present: [], absent: ["Pneumonia"] }), 0);
  assert.equal(impressionGaps("Yes, there is pneumonia.", { ...pneumonia, complete: false }), 0);
  const texts = ["There is pneumonia. There is a pleural effusion.", "There is pneumonia. There is a pleural effusion.", "There is pneumonia. There is a pleural effusion. Impression: Pneumonia and pleural effusion."];
  assert.equal(chooseCandidate(texts, pneumonia), 2, "the one with a complete impression wins over the more typical ones");
  assert.equal(chooseCandidate(texts, { ...pneumonia, complete: false }), 0, "not for a chat answer");
});

test("with expected findings, a consistent candidate beats a more typical one that contradicts them", () => {
  const c = [
    "The lungs are clear. No pleural effusion or pneumothorax.",
    "The lungs are clear. No pneumothorax or pleural effusion.",
    "The lungs are clear. No pleural effusion.",
    "There is a small right pleural effusion. No pneumothorax.",
    "There is a pleural effusion. There is a pneumothorax.",
  ];
  assert.ok(chooseCandidate(c) <= 2, "without findings the consensus is a normal text");
  assert.equal(chooseCandidate(c, { present: ["Pleural Effusion"], absent: ["Pneumothorax"] }), 3);
  // Several equally consistent candidates: the consensus among them wins (ties to the first).
  assert.equal(chooseCandidate(c, { present: [], absent: ["Pleural Effusion"] }), 0);
});

test("saysNothingAbnormal finds whole-chest normal statements, not normal organs or bones", () => {
  for (const t of ["No acute cardiopulmonary abnormality.", "Impression: No acute disease.", "No active disease.", "There is no evidence of acute cardiopulmonary process.", "Normal chest x-XXXX.", "Negative chest.", "No acute cardiopulmonary abnormalities."])
    assert.equal(saysNothingAbnormal(t), true, t);
  for (const t of ["The heart is normal in size.", "No acute bony abnormality.", "The lungs are clear. No pleural effusion.", "Right lower lobe pneumonia.", "Pneumonia was not assessed.", "Heart size was not assessed."])
    assert.equal(saysNothingAbnormal(t), false, t);
});

test("candidates with words outside the lexicon lose to ones without, whatever the consensus says", () => {
  const dir = mkdtempSync(join(tmpdir(), "lexicon-"));
  const file = join(dir, "lexicon.txt");
  writeFileSync(file, ["the", "lungs", "are", "clear", "no", "pleural", "effusion", "interval", "improvement"].join("\n") + "\n");
  const c = [
    "The lungs are clear. No pleural effusion. Interval improveloped.",
    "The lungs are clear. No pleural effusion. Interval improveloped.",
    "The lungs are clear. No pleural effusion. Interval improvement.",
  ];
  const expected = { present: [], absent: ["Pleural Effusion"] };
  assert.equal(chooseCandidate(c, expected), 0, "without a lexicon the majority wins");
  assert.equal(chooseCandidate(c, { ...expected, lexiconFile: file }), 2);
  // When every candidate has an unknown word, the fewest win; contradictions still come first.
  assert.equal(chooseCandidate(["Interval improveloped pleural effusion.", "No pleural effusion. Improveloped."], { ...expected, lexiconFile: file }), 1);
  rmSync(dir, { recursive: true });
});

test("an answer may also use the words naming the observations asked about (one set per topic)", () => {
  const dir = mkdtempSync(join(tmpdir(), "lexicon-"));
  const file = join(dir, "lexicon.txt");
  writeFileSync(file, "support\nyes\nthere\nare\nis\na\npacemaker\n");
  assert.equal(allowedWords({ present: [], absent: [] }), undefined);
  const summary = allowedWords({ present: [], absent: [], lexiconFile: file });
  assert.equal(summary, lexicon(file));
  const answer = { present: ["Support Devices"], absent: [], complete: false, asked: askedAbout("Are there any support devices?"), lexiconFile: file };
  const words = allowedWords(answer)!;
  assert.deepEqual([...words].sort(), ["a", "are", "devices", "is", "pacemaker", "support", "there", "yes"]);
  assert.equal(allowedWords({ ...answer }), words, "the same set for the same file and topic");
  // Consensus decoding counts unknown words with the same set.
  const c = ["Yes, there are support devices.", "Yes, there are support devices.", "Yes, there is a pacemaker."];
  assert.equal(chooseCandidate(c, { ...answer, asked: [] }), 2);
  assert.equal(chooseCandidate(c, answer), 0);
  rmSync(dir, { recursive: true });
});

test("the lexicon's words after \"#answers\" are for answers only", () => {
  const dir = mkdtempSync(join(tmpdir(), "lexicon-"));
  const file = join(dir, "lexicon.txt");
  writeFileSync(file, "there\nis\nno\npneumonia\n#answers\nyes\nassessed\n");
  assert.deepEqual([...lexicon(file)].sort(), ["is", "no", "pneumonia", "there"], "the report words");
  assert.deepEqual([...allowedWords({ present: [], absent: [], lexiconFile: file })!].sort(), ["is", "no", "pneumonia", "there"], "a summary: the report words");
  assert.deepEqual([...allowedWords({ present: [], absent: [], complete: false, lexiconFile: file })!].sort(), ["assessed", "is", "no", "pneumonia", "there", "yes"], "an answer: the answers' words too");
  rmSync(dir, { recursive: true });
});

test("an answer that addresses the observation asked wins over a consensus about another", () => {
  const c = ["No, there is no pleural effusion.", "No, there is no pleural effusion.", "Support devices were not assessed."];
  const expected = { present: [], absent: ["Pleural Effusion"], complete: false };
  assert.equal(chooseCandidate(c, expected), 0);
  assert.equal(chooseCandidate(c, { ...expected, asked: askedAbout("Are there any support devices?") }), 2);
  assert.deepEqual(askedAbout("Describe the findings."), []);
  assert.deepEqual(askedAbout("Is there a nodule or mass?"), ["Lung Lesion"]);
});

test("an impression's opening names the given positives; the findings are the text before \"Impression:\"", () => {
  assert.equal(positivesPhrase(["Pneumonia"]), "Pneumonia");
  assert.equal(positivesPhrase(["Cardiomegaly", "Pleural Effusion"]), "Cardiomegaly and pleural effusion");
  assert.equal(positivesPhrase(["Edema", "Consolidation", "Pneumonia"]), "Edema, consolidation and pneumonia");
  assert.equal(positivesPhrase(["No Finding", "Not An Observation"]), "");
  assert.equal(positivesPhrase(["Support Devices", "Pneumonia"], new Set(["support", "pneumonia"])), "Pneumonia", "a name with a word outside the lexicon is left out");
  assert.equal(findingsOf("Findings: The heart is enlarged. Impression: Cardiomegaly."), "Findings: The heart is enlarged.");
  assert.equal(findingsOf("The lungs are clear.  "), "The lungs are clear.");
});

test("of answers that state a given positive, one that calls it only possible loses", () => {
  const expected = { present: ["Pneumonia"], absent: ["Pleural Effusion"], complete: false, asked: ["Pneumonia"] };
  const c = ["Possible pneumonia.", "Possible pneumonia.", "Yes, there is pneumonia."];
  assert.equal(chooseCandidate(c), 0, "without the findings: the consensus");
  assert.equal(chooseCandidate(c, expected), 2);
});

test("a sentence repeated word for word in its section is counted; an impression restating a finding is not", () => {
  assert.equal(repeatedSentences("Findings: The mediastinum is unremarkable. The mediastinum is  unremarkable! Impression: Pneumonia."), 1);
  assert.equal(repeatedSentences("Findings: There is cardiomegaly. Impression: Cardiomegaly."), 0);
  assert.equal(repeatedSentences("Findings: Cardiomegaly. Impression: Cardiomegaly."), 0);
  assert.equal(repeatedSentences("Findings: No effusion. No effusion. No effusion. Impression: No acute disease. No acute disease."), 3);
  assert.equal(repeatedSentences("The lungs are clear. The heart is normal."), 0);
});

/**
 * Two alike candidates and a third, given pneumonia and no effusion, that each check but one
 * scores the same: without the findings the majority wins, with them the third.
 */
function checkBeatsMajority(worse: string, better: string): void {
  const c = [worse, worse, better];
  assert.equal(chooseCandidate(c), 0, "without findings the majority wins");
  assert.equal(chooseCandidate(c, { present: ["Pneumonia"], absent: ["Pleural Effusion"] }), 2);
}

test("of candidates equal on every check, one without a repeated sentence wins over a more typical one", () => {
  checkBeatsMajority(
    "Findings: There is pneumonia. The heart is normal. The heart is normal. Impression: Pneumonia.",
    "Findings: There is pneumonia. The heart is normal in size. Impression: Pneumonia.",
  );
});

test("of candidates equal on the other findings checks, one that places no finding wins over a more typical one that does", () => {
  checkBeatsMajority("Findings: There is pneumonia. Impression: Right upper lobe pneumonia.", "Findings: There is pneumonia. Impression: Pneumonia.");
});

test("consensus against evidence: each candidate's summed agreement with the (other) evidence samples only", () => {
  const c = ["The lungs are clear.", "The lungs are clear.", "There is a pleural effusion."];
  const own = consensusScores(c);
  assert.ok(own[0]! > own[2]!);
  const withEvidence = [...c, "There is a small pleural effusion.", "There is a pleural effusion."];
  const ev = consensusScores(withEvidence, 3);
  assert.ok(ev[2]! > ev[0]!);
  assert.equal(ev[0], ev[1]);
  assert.ok(ev[4]! > 0 && ev[4]! < 1, "an evidence sample against the other evidence, not itself");
  assert.deepEqual(consensusScores(c, 3), own, "no evidence: the others");
  assert.deepEqual(consensusScores(c, 0), own, "all evidence: the others");
});

test("a summary says nothing about an observation the line gives as uncertain; an answer may call it possible", () => {
  const summary = { present: ["Cardiomegaly"], absent: ["Pneumothorax"], uncertain: ["Atelectasis"] };
  const count = (text: string, e: typeof summary & { complete?: boolean }) => uncertainStated(extractLabels(text), e);
  assert.equal(count("The heart is enlarged. No pneumothorax.", summary), 0);
  assert.equal(count("The heart is enlarged. There is bibasilar atelectasis.", summary), 1);
  assert.equal(count("The heart is enlarged. No atelectasis.", summary), 1, "denied");
  assert.equal(count("The heart is enlarged. Possible atelectasis.", summary), 1, "hedged");
  const answer = { ...summary, complete: false, asked: ["Atelectasis"] };
  assert.equal(count("Possible atelectasis.", answer), 0, "as the model was trained to answer");
  assert.equal(count("Yes, there is atelectasis.", answer), 1);
  assert.equal(count("No, there is no atelectasis.", answer), 1);
  const c = [
    "Findings: The heart is enlarged. There is mild atelectasis. Impression: Cardiomegaly.",
    "Findings: The heart is enlarged. There is left basilar atelectasis. Impression: Cardiomegaly.",
    "Findings: The heart is enlarged. The lungs are clear. Impression: Cardiomegaly.",
  ];
  assert.equal(chooseCandidate(c, { ...summary, uncertain: [] }), 0, "without the uncertain observation: the consensus");
  assert.equal(chooseCandidate(c, summary), 2);
});

test("the repeated sentences are left out, everything else kept as written", () => {
  const cases: [string, string][] = [
    ["Findings: There is a pleural effusion. There is a pleural effusion. Impression: Pleural effusion.", "Findings: There is a pleural effusion. Impression: Pleural effusion."],
    ["Findings: The mediastinum is unremarkable. The mediastinum is  unremarkable! The lungs are clear. Impression: Pneumonia.", "Findings: The mediastinum is unremarkable. The lungs are clear. Impression: Pneumonia."],
    ["Findings: There is cardiomegaly. Impression: Cardiomegaly.", "Findings: There is cardiomegaly. Impression: Cardiomegaly."],
    ["Findings: A 1.7 cm nodule. A 1.7 cm nodule. Impression: Nodule, 1.7 cm.", "Findings: A 1.7 cm nodule. Impression: Nodule, 1.7 cm."],
    ["Findings: No effusion. Impression: No acute disease. No acute disease.", "Findings: No effusion. Impression: No acute disease. "],
    ["The lungs are clear. The heart is normal.", "The lungs are clear. The heart is normal."],
  ];
  for (const [text, want] of cases) {
    assert.equal(withoutRepeatedSentences(text), want);
    assert.equal(repeatedSentences(withoutRepeatedSentences(text)), 0);
  }
});

test("withoutContradictingSentences drops the sentences that contradict the line on their own, headings kept while their section has one", () => {
  const ecm = { present: ["Enlarged Cardiomediastinum"], absent: ["Cardiomegaly", "Pleural Effusion", "Pneumonia"] };
  const text = " Findings: The heart is enlarged. The cardiomediastinal silhouette is enlarged. No pleural effusion. Impression: Cardiomegaly. Enlarged cardiomediastinal silhouette.";
  const kept = withoutContradictingSentences(text, ecm);
  assert.equal(kept, " Findings: The cardiomediastinal silhouette is enlarged. No pleural effusion. Impression: Enlarged cardiomediastinal silhouette.");
  assert.ok(disagreement(text, ecm).contradictions > 0);
  assert.equal(disagreement(kept, ecm).contradictions, 0);
  // A given positive denied, and "no acute disease" of a given pneumonia, go; a heading whose section empties goes with it.
  const pna = { present: ["Pneumonia"], absent: ["Pleural Effusion"] };
  assert.equal(
    withoutContradictingSentences("Findings: There is no pneumonia. There is a pleural effusion. Impression: No acute cardiopulmonary disease.", pna),
    "",
  );
  assert.equal(
    withoutContradictingSentences("Findings: There is pneumonia. The lungs are otherwise clear. Impression: No acute cardiopulmonary disease.", pna),
    "Findings: There is pneumonia. The lungs are otherwise clear.",
  );
  // A text that agrees comes back as it was.
  const fine = " Findings: There is pneumonia. No pleural effusion. Impression: Pneumonia.";
  assert.equal(withoutContradictingSentences(fine, pna), fine);
});

/**
 * Consensus decoding (minimum Bayes risk with ROUGE-L): of several candidate answers to the same
 * prompt, the one that agrees most with all the others. Idiosyncratic content (a finding only one
 * sample mentions, an odd phrasing) loses; what most samples say wins.
 *
 * With the findings the prompt was conditioned on, candidates are first checked against them
 * with the project's label extractor: fewest contradictions (a finding stated that the vision
 * stage gave as negative, a given positive denied or called "not assessed", or "no acute disease"
 * said of a study given an acute finding, an observation stated present in one sentence and absent
 * in another), then fewest observations the line gives as uncertain that are stated or denied (a
 * summary says nothing about them; an answer may call one possible, as the model was trained to),
 * then (in an answer) fewest asked-about observations left unaddressed, then (in a
 * summary) fewest given positives left unsaid, then fewest given positives stated only as
 * possible ("Possible pneumonia." of a given pneumonia), then fewest findings placed where nothing
 * placed them ("Right upper lobe pneumonia.": the line gives no side or lobe), then (in a summary)
 * the closest to ending with an impression that names every given positive, then fewest words outside the model's lexicon
 * (garbled words: "improveloped"; `allowedWords`), then fewest sentences repeated word for word,
 * then consensus. The answer never contradicts the findings line when any candidate does not.
 * Evidence samples (candidateSettings' last ones, sampled at the model's own temperature) are
 * what the others' consensus is measured against, and the answer only when no other does as well
 * on the checks.
 */
import { readFileSync } from "node:fs";
import { addresses, extractLabels, notAssessed, OBSERVATIONS, placedFindings, selfContradictions, splitSentences, unknownWords, type Labels, type Observation } from "../metrics/index.js";
import { rougeLTokens } from "../metrics/rouge.js";
import { tokenizeRouge } from "../metrics/tokenize.js";

/** Observations (CheXpert names) the findings line gives as present or absent; others are ignored. */
export interface ExpectedFindings {
  present: string[];
  absent: string[];
  /** Observations the line gives as uncertain (the vision stage's band below its threshold). */
  uncertain?: string[];
  /**
   * Whether the answer should state every given positive (a summary; the default). An answer to a
   * question ("How is the heart size?") may leave them unsaid.
   */
  complete?: boolean;
  /** Observations the question asks about: an answer that says nothing about one loses. */
  asked?: string[];
  /** A word list (one word per line, the training reports' vocabulary): words outside it lose. */
  lexiconFile?: string;
}

/** A lexicon file: the report words, then after a line "#answers" the words answers may use too. */
interface LexiconFile {
  reports: ReadonlySet<string>;
  answers: ReadonlySet<string>;
}

const lexicons = new Map<string, LexiconFile>();

function lexiconFile(file: string): LexiconFile {
  let l = lexicons.get(file);
  if (!l) {
    const lines = readFileSync(file, "utf8").split("\n").map((w) => w.trim());
    const mark = lines.indexOf("#answers");
    const words = (xs: string[]) => new Set(xs.filter((w) => w && !w.startsWith("#")));
    l = { reports: words(mark < 0 ? lines : lines.slice(0, mark)), answers: words(mark < 0 ? [] : lines.slice(mark + 1)) };
    lexicons.set(file, l);
  }
  return l;
}

/** The report words of the lexicon in `file` (the training reports' vocabulary), read once per process. */
export function lexicon(file: string): ReadonlySet<string> {
  return lexiconFile(file).reports;
}

const answerLexicons = new Map<string, ReadonlySet<string>>();

/**
 * The words a candidate may use (undefined: no lexicon): a summary, the lexicon's report words;
 * an answer also the words of the trained answers' sentences ("Yes, there is …", "… was not
 * assessed.") and those naming each observation asked about ("Are there any support devices?" may
 * be answered with "devices", a word the training reports never use). One set per file and topic.
 */
export function allowedWords(expected: ExpectedFindings | undefined): ReadonlySet<string> | undefined {
  if (!expected?.lexiconFile) return undefined;
  const l = lexiconFile(expected.lexiconFile);
  if (expected.complete !== false) return l.reports;
  const asked = (expected.asked ?? []).filter(known);
  const key = `${expected.lexiconFile}\n${asked.join("|")}`;
  let words = answerLexicons.get(key);
  if (!words) answerLexicons.set(key, (words = new Set([...l.reports, ...l.answers, ...asked.flatMap((o) => o.toLowerCase().match(/[a-z]+/g) ?? [])])));
  return words;
}

/**
 * Summed ROUGE-L F of each candidate against all the others or, when the candidates from
 * `evidenceFrom` on are evidence samples, against the other evidence samples alone.
 */
export function consensusScores(candidates: readonly string[], evidenceFrom = candidates.length): number[] {
  const tokens = candidates.map((c) => tokenizeRouge(c));
  const from = evidenceFrom < candidates.length ? evidenceFrom : 0;
  return tokens.map((a, i) => tokens.reduce((sum, b, j) => (i === j || j < from ? sum : sum + rougeLTokens(a, b).f), 0));
}

/**
 * Findings that make "no acute cardiopulmonary disease" false. Chronic or minor ones (an enlarged
 * heart, a granuloma, atelectasis) are routinely reported beside that impression.
 */
export const ACUTE_FINDINGS: readonly Observation[] = ["Pneumonia", "Consolidation", "Edema", "Pneumothorax"];

const NOTHING_ACUTE = /\b(?:no|without)\b(?: \w+){0,3} (?:acute|active)\b[^,]*?\b(?:disease|abnormality|abnormalities|process|findings?|pathology)\b|\b(?:normal|negative) (?:chest|study|exam|examination|radiograph)\b/;
const BONES = /\b(?:bony|bone|bones|osseous|skeletal|ribs?|spine)\b/;

/**
 * Whether the text says there is nothing acute or abnormal in the chest as a whole ("No acute
 * cardiopulmonary abnormality.", "Normal chest."); a normal organ ("The heart is normal in size.")
 * or bones ("No acute bony abnormality.") is not that.
 */
export function saysNothingAbnormal(text: string): boolean {
  return splitSentences(text).some((s) => NOTHING_ACUTE.test(s) && !BONES.test(s));
}

/** The text after "Impression:", or undefined when there is none (or nothing follows it). */
export function impressionOf(text: string): string | undefined {
  const m = /\bimpression:\s*([\s\S]*)$/i.exec(text);
  return m && m[1]!.trim() ? m[1]!.trim() : undefined;
}

/** The text before "Impression:" (all of it when there is none), without trailing space. */
export function findingsOf(text: string): string {
  return text.replace(/\s*\bimpression:[\s\S]*$/i, "").trimEnd();
}

/**
 * The given positives by name, as an impression starts: "Pneumonia", "Cardiomegaly and pleural
 * effusion", "Edema, consolidation and pneumonia"; "" when none is a finding. With `words`, only
 * the names whose words are all in it (no forced word outside the model's lexicon).
 */
export function positivesPhrase(present: readonly string[], words?: ReadonlySet<string>): string {
  const names = present
    .filter(known)
    .map((o) => o.toLowerCase())
    .filter((n) => !words || (n.match(/[a-z]+/g) ?? []).every((w) => words.has(w)));
  if (names.length === 0) return "";
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
  return list[0]!.toUpperCase() + list.slice(1);
}

/** A CheXpert finding (an observation other than "No Finding"). */
const known = (o: string): o is Observation => (OBSERVATIONS as readonly string[]).includes(o) && o !== "No Finding";

/** How a text disagrees with the expected findings (label extractor; uncertain counts as stated). */
export function disagreement(text: string, expected: ExpectedFindings, labels: Labels = extractLabels(text)): { contradictions: number; omissions: number } {
  const stated = (o: Observation) => labels[o] === 1 || labels[o] === -1;
  let contradictions = 0;
  let omissions = 0;
  for (const o of expected.absent.filter(known)) if (stated(o)) contradictions++;
  for (const o of expected.present.filter(known)) {
    if (stated(o)) continue;
    if (labels[o] === 0) contradictions++;
    else if (expected.complete !== false) omissions++;
  }
  // An observation stated present in one sentence and absent in another.
  contradictions += selfContradictions(text).length;
  // "Pneumonia was not assessed." of a finding the line gives.
  for (const o of notAssessed(text)) if (known(o) && (expected.present.includes(o) || expected.absent.includes(o))) contradictions++;
  if (expected.present.some((o) => (ACUTE_FINDINGS as readonly string[]).includes(o)) && saysNothingAbnormal(text)) contradictions++;
  return { contradictions, omissions };
}

/**
 * How far a summary is from ending with an impression that names every given positive: 1 with no
 * impression, else the given positives the impression leaves unsaid (0 for a chat answer).
 */
export function impressionGaps(text: string, expected: ExpectedFindings): number {
  if (expected.complete === false) return 0;
  const impression = impressionOf(text);
  if (impression === undefined) return 1;
  const said = extractLabels(impression);
  return expected.present.filter((o) => known(o) && said[o] !== 1 && said[o] !== -1).length;
}

/**
 * Given positives the text states only as possible ("Possible pneumonia." of a line that gives
 * pneumonia as positive): stated, so no omission, but weaker than the line.
 */
function hedged(labels: Labels, expected: ExpectedFindings): number {
  return expected.present.filter((o) => known(o) && labels[o] === -1).length;
}

/**
 * Sentences that repeat an earlier one of the same section word for word ("The mediastinum is
 * unremarkable. The mediastinum is unremarkable."), ignoring case, spacing and punctuation. An
 * impression that restates a finding is usual and is not counted.
 */
export function repeatedSentences(text: string): number {
  return sentencePieces(text).filter((p) => p.repeat).length;
}

/** The text without the sentences repeatedSentences counts; the rest as written, spacing included. */
export function withoutRepeatedSentences(text: string): string {
  return sentencePieces(text)
    .filter((p) => !p.repeat)
    .map((p) => p.piece)
    .join("");
}

/**
 * The text without the sentences that, read on their own, contradict the findings line: state a
 * finding it gives as negative, deny or call "not assessed" one it gives, or say nothing is
 * abnormal of a study given an acute finding ("The heart is enlarged." of a line giving an
 * enlarged cardiomediastinum and a normal heart). A heading ("Findings:", "Impression:") stays
 * while a sentence of its section does. What is left can still contradict the line through two
 * sentences together (an observation the line does not give, stated present and absent).
 */
export function withoutContradictingSentences(text: string, expected: ExpectedFindings): string {
  const alone: ExpectedFindings = { present: expected.present, absent: expected.absent, complete: false };
  const sections = sentencePieces(text).reduce<{ head: string; kept: string[] }[]>((out, p) => {
    if (p.head || out.length === 0) out.push({ head: p.head, kept: [] });
    const sentence = p.piece.slice(p.head.length);
    if (sentence.trim() && disagreement(sentence, alone).contradictions === 0) out.at(-1)!.kept.push(sentence);
    return out;
  }, []);
  return sections
    .filter((x) => x.kept.length > 0)
    .map((x) => x.head + x.kept.join(""))
    .join("")
    .trimEnd();
}

/**
 * The text cut into its sentences, each with its end and the spacing after it (a decimal point
 * is not an end: "1.7 cm"), so that they join back into the text, and the heading it starts with
 * ("Findings: ", "Impression: "; "" for none); a sentence whose words (case, spacing, punctuation
 * and the heading aside) repeat an earlier one of its section (the findings, the impression) is
 * marked.
 */
function sentencePieces(text: string): { piece: string; head: string; repeat: boolean }[] {
  const at = text.search(/\bimpression:/i);
  return (at < 0 ? [text] : [text.slice(0, at), text.slice(at)]).flatMap((section) => {
    const seen = new Set<string>();
    return (section.match(/(?:\d\.\d|[^.!;\n\r])*(?:[.!;\n\r]+|$)\s*/g) ?? []).map((piece) => {
      const head = /^\s*(?:findings|impression):\s*/i.exec(piece)?.[0] ?? "";
      const key = (piece.slice(head.length).toLowerCase().match(/[a-z0-9]+/g) ?? []).join(" ");
      const repeat = key !== "" && seen.has(key);
      seen.add(key);
      return { piece, head, repeat };
    });
  });
}

/**
 * Observations the line gives as uncertain that the text states or denies: a summary should say
 * nothing about them; an answer may call one possible ("Pneumonia cannot be excluded."), not
 * present or absent.
 */
export function uncertainStated(labels: Labels, expected: ExpectedFindings): number {
  const said = (o: Observation) => labels[o] === 1 || labels[o] === 0 || (labels[o] === -1 && expected.complete !== false);
  return (expected.uncertain ?? []).filter((o) => known(o) && said(o)).length;
}

/** Observations in `expected.asked` the answer says nothing about. */
export function unanswered(text: string, expected: ExpectedFindings): number {
  return (expected.asked ?? []).filter((o) => known(o) && !addresses(text, o)).length;
}

/**
 * Index of the answer: see the module comment. Ties go to the lowest index. When the candidates
 * from `evidenceFrom` on are evidence samples (drawn hotter, to be what the others are scored
 * against), consensus is agreement with them, and one of them is the answer only when it does
 * better on the checks than every other candidate (none with a contradiction-free answer among
 * the others).
 */
export function chooseCandidate(candidates: readonly string[], expected?: ExpectedFindings, evidenceFrom = candidates.length): number {
  const consensus = consensusScores(candidates, evidenceFrom);
  const words = allowedWords(expected);
  const checks = candidates.map((c) => {
    const labels = expected ? extractLabels(c) : undefined;
    return {
      ...(expected ? disagreement(c, expected, labels) : { contradictions: 0, omissions: 0 }),
      uncertain: expected ? uncertainStated(labels!, expected) : 0,
      gaps: expected ? impressionGaps(c, expected) : 0,
      unanswered: expected ? unanswered(c, expected) : 0,
      hedged: expected ? hedged(labels!, expected) : 0,
      placed: expected ? placedFindings(c) : 0,
      unknown: words ? unknownWords(c, words).length : 0,
      repeats: expected ? repeatedSentences(c) : 0,
    };
  });
  let best = 0;
  for (let i = 1; i < candidates.length; i++) {
    const a = checks[i]!;
    const b = checks[best]!;
    const better =
      a.contradictions !== b.contradictions ? a.contradictions < b.contradictions
      : a.uncertain !== b.uncertain ? a.uncertain < b.uncertain
      : a.unanswered !== b.unanswered ? a.unanswered < b.unanswered
      : a.omissions !== b.omissions ? a.omissions < b.omissions
      : a.hedged !== b.hedged ? a.hedged < b.hedged
      : a.placed !== b.placed ? a.placed < b.placed
      : a.gaps !== b.gaps ? a.gaps < b.gaps
      : a.unknown !== b.unknown ? a.unknown < b.unknown
      : a.repeats !== b.repeats ? a.repeats < b.repeats
      : i < evidenceFrom !== best < evidenceFrom ? i < evidenceFrom
      : consensus[i]! > consensus[best]!;
    if (better) best = i;
  }
  return best;
}

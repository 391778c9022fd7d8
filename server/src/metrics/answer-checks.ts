/**
 * Word- and question-level checks of a generated text, shared by consensus decoding (which
 * prefers candidates that pass them) and the evaluation's text checks (which count failures):
 *  - words that are not words: any word outside a vocabulary (the training reports');
 *  - whether an answer addresses the observation a question asks about.
 */
import { OBSERVATIONS, type Observation } from "./chexpert.js";
import { extractLabels, notAssessed } from "./label-extractor.js";

const WORD = /[a-z]+/g;

/** The lower-case words of the texts. */
export function vocabulary(texts: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const t of texts) for (const w of t.toLowerCase().match(WORD) ?? []) if (!isPlaceholder(w)) out.add(w);
  return out;
}

/**
 * Whether a run of letters in the training reports is IU X-ray's de-identification placeholder
 * ("XXXX" for a name, a date, a device; also run into a word: "XXXXPM"), which a report must not
 * contain. (models/xraygpt-mini/train/lexicon.py leaves out the same.)
 */
export function isPlaceholder(word: string): boolean {
  return word.includes("xxxx");
}

/** Words of `text` not in `vocab`. */
export function unknownWords(text: string, vocab: ReadonlySet<string>): string[] {
  return (text.toLowerCase().match(WORD) ?? []).filter((w) => !vocab.has(w));
}

/** Whether an answer says something about the observation asked (including "… was not assessed."). */
export function addresses(answer: string, asked: Observation): boolean {
  const v = extractLabels(answer)[asked];
  return v === 1 || v === 0 || v === -1 || notAssessed(answer).includes(asked);
}

/**
 * The observations a question mentions ("Is there a pleural effusion?" → Pleural Effusion; "Are
 * the lungs clear?" → Lung Opacity, Consolidation, Pneumonia). None for an instruction.
 */
export function askedAbout(question: string): Observation[] {
  if (!question.trim().endsWith("?")) return [];
  const labels = extractLabels(question);
  return OBSERVATIONS.filter((o) => o !== "No Finding" && labels[o] != null);
}

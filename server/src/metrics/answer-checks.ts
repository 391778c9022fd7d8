/**
 * Word- and question-level checks of a generated text, shared by consensus decoding (which
 * prefers candidates that pass them) and the evaluation's text checks (which count failures):
 *  - words that are not words: any word outside a vocabulary (the training reports');
 *  - whether an answer addresses the observation a question asks about;
 *  - findings stated at a place of the chest (a side, a lobe) that nothing gave.
 */
import { OBSERVATIONS, type Observation } from "./chexpert.js";
import { extractLabels, notAssessed, splitSentences } from "./label-extractor.js";

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

const LETTERS = /[a-z]+/gi;
/** How a word may be spelt: lower case, Capitalized, or in capitals ("heart", "Heart", "PICC"). */
const CASED = /^(?:[a-z]+|[A-Z][a-z]*|[A-Z]+)$/;

/**
 * Words of `text` not in `vocab` (lower-cased), and words of mixed case ("ordERED", as written),
 * which no report spells. native/src/lexicon.cc keeps generation to the same definition.
 */
export function unknownWords(text: string, vocab: ReadonlySet<string>): string[] {
  return (text.match(LETTERS) ?? []).flatMap((w) => (!CASED.test(w) ? [w] : vocab.has(w.toLowerCase()) ? [] : [w.toLowerCase()]));
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

/** A side, lobe or zone of the chest ("left", "bibasilar", "upper lobe", "perihilar"). */
const PLACE = /\b(?:left|right|bilateral(?:ly)?|unilateral|bibasilar|bibasal|basilar|basal|bases?|ap(?:ex|ices|ical)|lingula(?:r)?|perihilar|retrocardiac|lobes?|lobar|midlung|(?:upper|lower|middle|mid)[- ](?:lung|zone)s?)\b/i;

/**
 * Sentences that say something is at a place of the chest: the findings line gives no place (the
 * vision stage assesses the whole image), so each is made up ("Right upper lobe pneumonia.",
 * "There is a small left pleural effusion.", "Right upper lobe are stable."). A sentence that
 * only denies findings ("No right pneumothorax.") is not counted.
 */
export function placedFindings(text: string): number {
  return splitSentences(text).filter((s) => {
    if (!PLACE.test(s)) return false;
    const labels = extractLabels(s);
    const said = OBSERVATIONS.filter((o) => o !== "No Finding").map((o) => labels[o]);
    return !(said.includes(0) && !said.includes(1) && !said.includes(-1));
  }).length;
}

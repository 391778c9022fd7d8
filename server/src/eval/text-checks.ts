/**
 * Text checks of generated reports and chat answers (each has goal 0 on IU X-ray val):
 *  - words that are not words: any word not in the vocabulary of the IU X-ray training reports;
 *  - a report that states an observation both present (or uncertain) and absent, in different
 *    sentences ("The cardiomediastinal silhouette is enlarged. … is within normal limits.");
 *  - a report that states a finding at a side, lobe or zone of the chest: the findings line places
 *    nothing, so the place is made up ("Right upper lobe pneumonia.");
 *  - a chat answer that does not address the observation asked about ("Are there any support
 *    devices?" → "No, there is no pleural effusion.").
 */
import { placedFindings, selfContradictions, unknownWords } from "../metrics/index.js";

export interface TextCheckCounts {
  texts: number;
  /** Texts with at least one unknown word, and the words (with counts). */
  withUnknownWords: number;
  unknownWords: [string, number][];
  /** Texts stating an observation both present and absent, with one example. */
  selfContradicting: number;
  contradictionExample?: string;
  /** Texts stating a finding at a place nothing gave, with one example. */
  placing: number;
  placingExample?: string;
}

export function checkTexts(texts: string[], vocab: ReadonlySet<string>): TextCheckCounts {
  const words = new Map<string, number>();
  let withUnknown = 0;
  let contradicting = 0;
  let example: string | undefined;
  let placing = 0;
  let placingExample: string | undefined;
  for (const t of texts) {
    const u = unknownWords(t, vocab);
    if (u.length) withUnknown++;
    for (const w of u) words.set(w, (words.get(w) ?? 0) + 1);
    if (selfContradictions(t).length) {
      contradicting++;
      example ??= t;
    }
    if (placedFindings(t) > 0) {
      placing++;
      placingExample ??= t;
    }
  }
  return {
    texts: texts.length,
    withUnknownWords: withUnknown,
    unknownWords: [...words.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
    selfContradicting: contradicting,
    ...(example ? { contradictionExample: example } : {}),
    placing,
    ...(placingExample ? { placingExample } : {}),
  };
}

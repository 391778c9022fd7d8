/**
 * What conditioning on the findings line alone allows. With the findings given, the model's answer
 * depends only on the findings line (decoding is seeded), so every study with the same positive
 * labels gets the same text. Two references for that setting:
 *  - typicalTexts: per label set, the training report most like the other training reports with
 *    the same labels (highest mean ROUGE-L F); a retrieval baseline chosen on train only.
 *  - perKeyOracle: per label set, the single candidate text that scores best on the evaluated
 *    studies with that label set, chosen on those studies themselves. No system conditioned only
 *    on the labels can beat it with one of these texts; it is an upper bound, not a system.
 */
import { rougeLTokens, tokenizeRouge } from "../metrics/index.js";

export interface KeyedText {
  /** The label set (e.g. the positive observations joined). */
  key: string;
  text: string;
}

function meanRougeL(candidate: string[], refs: string[][]): number {
  return refs.length === 0 ? 0 : refs.reduce((s, r) => s + rougeLTokens(candidate, r).f, 0) / refs.length;
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const g = out.get(k);
    if (g) g.push(it);
    else out.set(k, [it]);
  }
  return out;
}

/** At most `cap` items, evenly spaced (all of them when there are fewer). */
function spaced<T>(items: T[], cap: number): T[] {
  if (items.length <= cap) return items;
  return Array.from({ length: cap }, (_, i) => items[Math.floor((i * items.length) / cap)]!);
}

/**
 * Per text, its mean ROUGE-L F against the other texts with the same label set (each compared
 * with at most `cap` of them, evenly spaced, so large groups stay cheap); 0 for a text alone in
 * its set. In input order.
 */
export function typicality(texts: KeyedText[], cap = 150): number[] {
  const out = new Array<number>(texts.length).fill(0);
  const indexed = texts.map((t, i) => ({ ...t, i }));
  for (const group of groupBy(indexed, (t) => t.key).values()) {
    const tokens = group.map((t) => tokenizeRouge(t.text));
    const others = spaced(tokens.map((_, i) => i), cap);
    const byText = new Map<string, number>();
    group.forEach((t, i) => {
      let score = byText.get(t.text);
      if (score === undefined) {
        const refs = others.filter((j) => j !== i).map((j) => tokens[j]!);
        score = refs.length === 0 ? 0 : meanRougeL(tokens[i]!, refs);
        byText.set(t.text, score);
      }
      out[t.i] = score;
    });
  }
  return out;
}

/** Per label set, the text with the highest typicality (ties go to the earlier text). */
export function typicalTexts(texts: KeyedText[], cap = 150): Map<string, string> {
  const scores = typicality(texts, cap);
  const best = new Map<string, number>();
  texts.forEach((t, i) => {
    const b = best.get(t.key);
    if (b === undefined || scores[i]! > scores[b]!) best.set(t.key, i);
  });
  return new Map([...best].map(([k, i]) => [k, texts[i]!.text]));
}

/**
 * For each label set among `studies`, the candidate with the best mean ROUGE-L F on that set's
 * references (chosen on them); returns each study's ROUGE-L F for its set's choice, in input order.
 */
export function perKeyOracle(studies: KeyedText[], candidates: string[]): number[] {
  const cands = [...new Set(candidates)].map((c) => tokenizeRouge(c));
  const scores = new Array<number>(studies.length).fill(0);
  const indexed = studies.map((s, i) => ({ ...s, i, tokens: tokenizeRouge(s.text) }));
  for (const group of groupBy(indexed, (s) => s.key).values()) {
    const refs = group.map((s) => s.tokens);
    let best: string[] | null = null;
    let bestMean = -1;
    for (const c of cands) {
      const m = meanRougeL(c, refs);
      if (m > bestMean) (bestMean = m), (best = c);
    }
    for (const s of group) scores[s.i] = best ? rougeLTokens(best, s.tokens).f : 0;
  }
  return scores;
}

/**
 * Word-level Levenshtein distance between an AI draft and the final report (insertions,
 * deletions and substitutions of whole words, each costing 1), and its normalized form
 * distance / max(#words a, #words b) in [0, 1] (0 for two empty texts). Words are the
 * whitespace-separated tokens of the texts, compared exactly unless `tokenize` is given.
 */
export interface EditDistanceResult {
  distance: number;
  normalized: number;
  wordsA: number;
  wordsB: number;
}

export function levenshtein<T>(a: readonly T[], b: readonly T[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

export function editDistance(a: string, b: string, tokenize: (text: string) => string[] = (t) => t.split(/\s+/).filter((w) => w.length > 0)): EditDistanceResult {
  const wa = tokenize(a);
  const wb = tokenize(b);
  const distance = levenshtein(wa, wb);
  const longest = Math.max(wa.length, wb.length);
  return { distance, normalized: longest === 0 ? 0 : distance / longest, wordsA: wa.length, wordsB: wb.length };
}

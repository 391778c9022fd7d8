/**
 * Tokenization shared by ROUGE and BLEU, as Google's `rouge-score` DefaultTokenizer does it:
 * lowercase, every run of characters outside [a-z0-9] becomes a space, split on whitespace,
 * optionally Porter-stem tokens longer than 3 characters, keep only non-empty [a-z0-9]+ tokens.
 */
import { porterStem } from "./porter-stemmer.js";

export interface TokenizeOptions {
  /** Porter-stem tokens longer than 3 characters (rouge-score's `use_stemmer=True`). */
  stem?: boolean;
}

const NON_ALNUM = /[^a-z0-9]+/g;
const VALID = /^[a-z0-9]+$/;

export function tokenizeRouge(text: string, options: TokenizeOptions = {}): string[] {
  let tokens = text.toLowerCase().replace(NON_ALNUM, " ").split(/\s+/);
  if (options.stem) tokens = tokens.map((t) => (t.length > 3 ? porterStem(t) : t));
  return tokens.filter((t) => VALID.test(t));
}

/**
 * The Porter stemmer, ported line by line from NLTK 3.8's `nltk.stem.porter.PorterStemmer` in its
 * default NLTK_EXTENSIONS mode (the mode Google's `rouge-score` uses), with ORIGINAL_ALGORITHM and
 * MARTIN_EXTENSIONS available too. Golden outputs from Debian's python3-nltk: golden/porter.json.
 */
export type PorterMode = "NLTK_EXTENSIONS" | "MARTIN_EXTENSIONS" | "ORIGINAL_ALGORITHM";

type Condition = ((stem: string) => boolean) | null;
type Rule = [suffix: string, replacement: string, condition: Condition];

const IRREGULAR: Record<string, string[]> = {
  sky: ["sky", "skies"],
  die: ["dying"],
  lie: ["lying"],
  tie: ["tying"],
  news: ["news"],
  inning: ["innings", "inning"],
  outing: ["outings", "outing"],
  canning: ["cannings", "canning"],
  howe: ["howe"],
  proceed: ["proceed"],
  exceed: ["exceed"],
  succeed: ["succeed"],
};
const POOL = new Map<string, string>(Object.entries(IRREGULAR).flatMap(([k, vs]) => vs.map((v) => [v, k] as [string, string])));
const VOWELS = new Set(["a", "e", "i", "o", "u"]);

export class PorterStemmer {
  constructor(readonly mode: PorterMode = "NLTK_EXTENSIONS") {}

  private isConsonant(word: string, i: number): boolean {
    const c = word[i]!;
    if (VOWELS.has(c)) return false;
    if (c === "y") return i === 0 ? true : !this.isConsonant(word, i - 1);
    return true;
  }

  private measure(stem: string): number {
    let cv = "";
    for (let i = 0; i < stem.length; i++) cv += this.isConsonant(stem, i) ? "c" : "v";
    return cv.split("vc").length - 1;
  }

  private positiveMeasure = (stem: string): boolean => this.measure(stem) > 0;

  private containsVowel(stem: string): boolean {
    for (let i = 0; i < stem.length; i++) if (!this.isConsonant(stem, i)) return true;
    return false;
  }

  private endsDoubleConsonant(word: string): boolean {
    const n = word.length;
    return n >= 2 && word[n - 1] === word[n - 2] && this.isConsonant(word, n - 1);
  }

  private endsCvc(word: string): boolean {
    const n = word.length;
    return (
      (n >= 3 &&
        this.isConsonant(word, n - 3) &&
        !this.isConsonant(word, n - 2) &&
        this.isConsonant(word, n - 1) &&
        !["w", "x", "y"].includes(word[n - 1]!)) ||
      (this.mode === "NLTK_EXTENSIONS" && n === 2 && !this.isConsonant(word, 0) && this.isConsonant(word, 1))
    );
  }

  private static cut(word: string, suffix: string): string {
    return suffix === "" ? word : word.slice(0, -suffix.length);
  }

  private applyRules(word: string, rules: Rule[]): string {
    for (const [suffix, replacement, condition] of rules) {
      if (suffix === "*d" && this.endsDoubleConsonant(word)) {
        const stem = word.slice(0, -2);
        return condition === null || condition(stem) ? stem + replacement : word;
      }
      if (word.endsWith(suffix)) {
        const stem = PorterStemmer.cut(word, suffix);
        return condition === null || condition(stem) ? stem + replacement : word;
      }
    }
    return word;
  }

  private step1a(word: string): string {
    if (this.mode === "NLTK_EXTENSIONS" && word.endsWith("ies") && word.length === 4) return PorterStemmer.cut(word, "ies") + "ie";
    return this.applyRules(word, [
      ["sses", "ss", null],
      ["ies", "i", null],
      ["ss", "ss", null],
      ["s", "", null],
    ]);
  }

  private step1b(word: string): string {
    if (this.mode === "NLTK_EXTENSIONS" && word.endsWith("ied")) {
      return PorterStemmer.cut(word, "ied") + (word.length === 4 ? "ie" : "i");
    }
    if (word.endsWith("eed")) {
      const stem = PorterStemmer.cut(word, "eed");
      return this.measure(stem) > 0 ? stem + "ee" : word;
    }
    let intermediate: string | undefined;
    for (const suffix of ["ed", "ing"]) {
      if (word.endsWith(suffix)) {
        const candidate = PorterStemmer.cut(word, suffix);
        if (this.containsVowel(candidate)) {
          intermediate = candidate;
          break;
        }
      }
    }
    if (intermediate === undefined) return word;
    const last = intermediate[intermediate.length - 1] ?? "";
    return this.applyRules(intermediate, [
      ["at", "ate", null],
      ["bl", "ble", null],
      ["iz", "ize", null],
      ["*d", last, () => !["l", "s", "z"].includes(last)],
      ["", "e", (stem) => this.measure(stem) === 1 && this.endsCvc(stem)],
    ]);
  }

  private step1c(word: string): string {
    const condition =
      this.mode === "NLTK_EXTENSIONS"
        ? (stem: string) => stem.length > 1 && this.isConsonant(stem, stem.length - 1)
        : (stem: string) => this.containsVowel(stem);
    return this.applyRules(word, [["y", "i", condition]]);
  }

  private step2(word: string): string {
    const m = this.positiveMeasure;
    if (this.mode === "NLTK_EXTENSIONS" && word.endsWith("alli") && m(PorterStemmer.cut(word, "alli"))) {
      return this.step2(PorterStemmer.cut(word, "alli") + "al");
    }
    const rules: Rule[] = [
      ["ational", "ate", m],
      ["tional", "tion", m],
      ["enci", "ence", m],
      ["anci", "ance", m],
      ["izer", "ize", m],
      this.mode === "ORIGINAL_ALGORITHM" ? ["abli", "able", m] : ["bli", "ble", m],
      ["alli", "al", m],
      ["entli", "ent", m],
      ["eli", "e", m],
      ["ousli", "ous", m],
      ["ization", "ize", m],
      ["ation", "ate", m],
      ["ator", "ate", m],
      ["alism", "al", m],
      ["iveness", "ive", m],
      ["fulness", "ful", m],
      ["ousness", "ous", m],
      ["aliti", "al", m],
      ["iviti", "ive", m],
      ["biliti", "ble", m],
    ];
    if (this.mode === "NLTK_EXTENSIONS") {
      rules.push(["fulli", "ful", m]);
      rules.push(["logi", "log", () => m(word.slice(0, -3))]);
    }
    if (this.mode === "MARTIN_EXTENSIONS") rules.push(["logi", "log", m]);
    return this.applyRules(word, rules);
  }

  private step3(word: string): string {
    const m = this.positiveMeasure;
    return this.applyRules(word, [
      ["icate", "ic", m],
      ["ative", "", m],
      ["alize", "al", m],
      ["iciti", "ic", m],
      ["ical", "ic", m],
      ["ful", "", m],
      ["ness", "", m],
    ]);
  }

  private step4(word: string): string {
    const gt1 = (stem: string) => this.measure(stem) > 1;
    return this.applyRules(word, [
      ["al", "", gt1],
      ["ance", "", gt1],
      ["ence", "", gt1],
      ["er", "", gt1],
      ["ic", "", gt1],
      ["able", "", gt1],
      ["ible", "", gt1],
      ["ant", "", gt1],
      ["ement", "", gt1],
      ["ment", "", gt1],
      ["ent", "", gt1],
      ["ion", "", (stem) => this.measure(stem) > 1 && ["s", "t"].includes(stem[stem.length - 1] ?? "")],
      ["ou", "", gt1],
      ["ism", "", gt1],
      ["ate", "", gt1],
      ["iti", "", gt1],
      ["ous", "", gt1],
      ["ive", "", gt1],
      ["ize", "", gt1],
    ]);
  }

  private step5a(word: string): string {
    if (word.endsWith("e")) {
      const stem = PorterStemmer.cut(word, "e");
      if (this.measure(stem) > 1) return stem;
      if (this.measure(stem) === 1 && !this.endsCvc(stem)) return stem;
    }
    return word;
  }

  private step5b(word: string): string {
    return this.applyRules(word, [["ll", "l", () => this.measure(word.slice(0, -1)) > 1]]);
  }

  stem(word: string, toLowercase = true): string {
    let stem = toLowercase ? word.toLowerCase() : word;
    if (this.mode === "NLTK_EXTENSIONS" && POOL.has(word)) return POOL.get(stem) ?? stem;
    if (this.mode !== "ORIGINAL_ALGORITHM" && word.length <= 2) return stem;
    stem = this.step1a(stem);
    stem = this.step1b(stem);
    stem = this.step1c(stem);
    stem = this.step2(stem);
    stem = this.step3(stem);
    stem = this.step4(stem);
    stem = this.step5a(stem);
    stem = this.step5b(stem);
    return stem;
  }
}

const defaultStemmer = new PorterStemmer();

/** Stems one word as `nltk.stem.PorterStemmer().stem(word)` does. */
export function porterStem(word: string): string {
  return defaultStemmer.stem(word);
}

/**
 * Finding terms in report text, with their positions and whether the sentence negates them
 * ("no pneumothorax", "without effusion", "negative for pneumonia"). Used for hover (the vision
 * model's probability of the term under the cursor) and for contradiction diagnostics.
 * Labels are CheXpert observation names; a vision model's label is matched case-insensitively.
 */

export const TERMS: Record<string, string[]> = {
  "Enlarged Cardiomediastinum": ["enlarged cardiomediastinum", "widened mediastinum", "mediastinal widening"],
  Cardiomegaly: ["cardiomegaly", "enlarged heart", "cardiac enlargement", "heart is enlarged"],
  "Lung Opacity": ["lung opacity", "opacity", "opacities", "opacification"],
  "Lung Lesion": ["lung lesion", "nodule", "nodules", "mass", "lesion"],
  Edema: ["pulmonary edema", "edema", "oedema", "vascular congestion"],
  Consolidation: ["consolidation", "consolidations", "airspace disease"],
  Pneumonia: ["pneumonia", "pneumonias", "infection"],
  Atelectasis: ["atelectasis", "atelectatic", "collapse"],
  Pneumothorax: ["pneumothorax", "pneumothoraces"],
  "Pleural Effusion": ["pleural effusion", "pleural effusions", "effusion", "effusions"],
  "Pleural Other": ["pleural thickening", "fibrothorax", "pleural plaque"],
  Fracture: ["fracture", "fractures", "fractured"],
  "Support Devices": ["support devices", "endotracheal tube", "pacemaker", "catheter", "line", "tube"],
};

const NEGATIONS = /\b(no|not|without|negative for|free of|absence of|absent|resolved|rules? out|ruled out|no evidence of|no signs? of)\b/gi;

export interface TermMatch {
  label: string;
  term: string;
  start: number;
  end: number;
  /** Offset of the negating word when the clause negates the term. */
  negationStart?: number;
}

interface Pattern {
  label: string;
  term: string;
  re: RegExp;
}

const PATTERNS: Pattern[] = Object.entries(TERMS)
  .flatMap(([label, terms]) => terms.map((term) => ({ label, term })))
  .sort((a, b) => b.term.length - a.term.length)
  .map(({ label, term }) => ({ label, term, re: new RegExp(`\\b${term.replace(/ /g, "\\s+")}\\b`, "gi") }));

/** The sentence (or clause) around an offset: from the previous . ; ! ? or line break. */
function clauseStart(text: string, at: number): number {
  for (let i = at - 1; i >= 0; i--) if (".;!?\n".includes(text[i]!)) return i + 1;
  return 0;
}

/** The sentence containing `at` (between sentence ends / line breaks). */
export function sentenceAround(text: string, at: number): string {
  const start = clauseStart(text, at);
  const m = /[.;!?\n]/.exec(text.slice(at));
  return text.slice(start, m ? at + m.index + 1 : text.length);
}

/** Every finding term in `text`, longest match first, without overlaps, in document order. */
export function findTerms(text: string): TermMatch[] {
  const taken: [number, number][] = [];
  const out: TermMatch[] = [];
  for (const p of PATTERNS) {
    p.re.lastIndex = 0;
    for (let m = p.re.exec(text); m; m = p.re.exec(text)) {
      const start = m.index;
      const end = start + m[0].length;
      if (taken.some(([s, e]) => start < e && end > s)) continue;
      taken.push([start, end]);
      const clause = text.slice(clauseStart(text, start), start);
      // A "but"/"however" after the negation starts a new, positive statement.
      NEGATIONS.lastIndex = 0;
      const cs = clauseStart(text, start);
      let negationStart: number | undefined;
      for (let n = NEGATIONS.exec(clause); n; n = NEGATIONS.exec(clause)) {
        negationStart = /\b(but|however|although)\b/i.test(clause.slice(n.index)) ? undefined : cs + n.index;
      }
      out.push({ label: p.label, term: m[0], start, end, ...(negationStart !== undefined ? { negationStart } : {}) });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The model's probability for a CheXpert label (case-insensitive name match), if it has one. */
export function probabilityOf(labels: { name: string; probability: number }[], label: string): number | undefined {
  const want = label.toLowerCase();
  return labels.find((l) => l.name.toLowerCase() === want)?.probability;
}

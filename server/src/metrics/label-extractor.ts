/**
 * A rule-based extractor of the 14 CheXpert observations from report text, in the spirit of the
 * CheXpert labeler (mention → uncertainty → negation, aggregated over the report).
 *
 * - Sentences split on . ! ; and newlines (not on decimal points); each mention is judged inside
 *   its sentence only.
 * - Direct mentions ("pneumothorax", "effusion", "cardiomegaly", support devices ...) are positive
 *   unless uncertain ("cannot exclude", "may represent", "possible", "suggestive of", "versus",
 *   "X cannot be excluded" ...) or negated ("no", "without", "negative for", "free of", "clear of",
 *   "absence of", "X is not seen", "X has resolved" ...). Uncertainty is checked first, so
 *   "cannot exclude pneumonia" is uncertain, not negative. "No change in X" asserts X.
 * - Attribute mentions (heart / cardiac silhouette, mediastinum, cardiomediastinal silhouette,
 *   lungs, costophrenic angles) are labeled only through a nearby size/state cue in the same
 *   clause: "heart size is normal" → Cardiomegaly 0, "enlarged heart" → 1, "heart is not
 *   enlarged" → 0, "upper limits of normal" / "borderline" → -1, "lungs are clear" → Lung Opacity,
 *   Consolidation and Pneumonia 0 (not after "otherwise"), "blunting of the costophrenic angle"
 *   → Pleural Effusion uncertain.
 * - A sentence saying something was not assessed ("Pneumonia was not assessed.") states nothing.
 * - A report's label is positive if any mention is, else uncertain, else negative, else null;
 *   "No Finding" is positive when nothing but Support Devices is positive or uncertain.
 */
import { emptyLabels, mergeLabel, OBSERVATIONS, withNoFinding, type Labels, type LabelValue, type Observation } from "./chexpert.js";

interface DirectRule {
  obs: Observation[];
  re: RegExp;
  /** A positive mention only makes the observation uncertain (e.g. blunted costophrenic angle). */
  weak?: boolean;
}

interface AttributeRule {
  re: RegExp;
  abnormalCue?: RegExp;
  /** Observations set by an abnormal cue (positive, or negative/uncertain by context). */
  abnormal: Observation[];
  normalCue: RegExp;
  /** Observations set negative by a normal cue. */
  normal: Observation[];
  weak?: boolean;
  /** A normal cue right after "otherwise" says nothing (the report named an exception). */
  skipOtherwise?: boolean;
}

const g = (source: string) => new RegExp(source, "g");

const DIRECT: DirectRule[] = [
  { obs: ["Cardiomegaly"], re: g(String.raw`\bcardiomegaly\b|\b(?:cardiac|heart) enlargement\b`) },
  { obs: ["Enlarged Cardiomediastinum"], re: g(String.raw`\bmediastinal widening\b|\bwidened mediastinum\b`) },
  {
    obs: ["Lung Opacity"],
    re: g(
      String.raw`\bopaci(?:ty|ties|fication|fications|fied)\b|\binfiltrat(?:e|es|ion|ions|ive)\b|\bair[- ]?space (?:disease|opacit\w*|process|filling)\b` +
        String.raw`|\b(?<!(?:bone|osseous|soft tissue|soft-tissue|breast|nipple|calcified|metallic) )densit(?:y|ies)\b` +
        String.raw`|\binterstitial (?:markings?|pattern|prominence|opacit\w+|thickening|disease|changes?|infiltrates?|fibrosis)\b|\breticula(?:r|tion|ted)\b|\breticulonodular\b` +
        String.raw`|\bground[- ]glass\b|\b(?<!(?:pleural|pleuroparenchymal|pleural-parenchymal|pleural parenchymal|apical pleural) )scar(?:ring|s)?\b|\b(?<!cystic )fibro(?:sis|tic)\b|\bhaz(?:y|iness)\b`,
    ),
  },
  {
    obs: ["Lung Lesion"],
    re: g(
      String.raw`\bnodul(?:e|es|ar|arity)\b|\bmass(?:es)?\b|\b(?<!(?:lytic|bony|bone|osseous|sclerotic|blastic|skin|cutaneous) )lesions?\b` +
        String.raw`|\btumou?rs?\b|\bneoplasms?\b|\bcarcinoma\b|\bcavitary\b|\bcavitation\b`,
    ),
  },
  {
    obs: ["Edema"],
    re: g(
      String.raw`\bedema\b|\b(?:vascular|pulmonary|venous) congestion\b|\bcongestive heart failure\b|\bheart failure\b|\bchf\b` +
        String.raw`|\bvascular (?:prominence|engorgement|indistinctness|redistribution)\b|\bcephalization\b|\bkerley\b|\bfluid overload\b`,
    ),
  },
  { obs: ["Consolidation"], re: g(String.raw`\bconsolidat(?:ion|ions|ive|ed)\b`) },
  { obs: ["Pneumonia"], re: g(String.raw`\b(?:broncho)?pneumonias?\b|\bpneumonitis\b|\binfect(?:ion|ions|ious)\b`) },
  { obs: ["Atelectasis"], re: g(String.raw`\batelecta(?:sis|ses|tic)\b|\b(?<!(?:vertebral|vertebral body|compression|height) )collapsed?\b`) },
  { obs: ["Pneumothorax"], re: g(String.raw`\b(?:hydro|hemo)?pneumothora(?:x|ces)\b`) },
  {
    obs: ["Pleural Effusion"],
    re: g(String.raw`\b(?<!pericardial )effusions?\b|\bpleural fluid\b|\b(?:hydro|hemo)thorax\b|\b(?:hydro|hemo)pneumothorax\b`),
  },
  {
    obs: ["Pleural Other"],
    re: g(
      String.raw`\bpleural (?:thickening|scar(?:ring|s)?|plaques?|calcifications?|reaction)\b|\bthickening of the pleura\b|\bpleural[- ]parenchymal scar` +
        String.raw`|\bpleuroparenchymal\b|\bfibrothorax\b|\bapical (?:pleural )?caps?\b|\bpleural[- ]based\b|\bcalcified pleura\b`,
    ),
  },
  { obs: ["Fracture"], re: g(String.raw`\bfractur(?:e|es|ed)\b|\bfx\b`) },
  {
    obs: ["Support Devices"],
    re: g(
      String.raw`\bpacemakers?\b|\bpacer\b|\b(?:a?icd|defibrillator)\b|\bcatheters?\b|\bpicc\b|\b(?:central|venous|arterial|ij|subclavian|jugular|swan[- ]ganz|dialysis) (?:venous )?(?:line|catheter)s?\b` +
        String.raw`|\bport[- ]?a[- ]?cath\b|\b(?:chest|power|infusion|mediport) port\b|\b(?:endotracheal|et|ng|og|nasogastric|orogastric|feeding|chest|tracheostomy|dobhoff|enteric|gastric|g|j) tubes?\b` +
        String.raw`|\btracheostomy\b|\bstents?\b|\b(?:sternotomy|sternal|cerclage|surgical) wires?\b|\b(?:surgical|vascular) clips?\b|\bclips\b` +
        String.raw`|\bprosthetic (?:heart )?valves?\b|\bvalve (?:replacement|prosthesis)\b|\bhardware\b|\bleads?\b(?! to)|\bdevices?\b|\bdrains?\b|\bsutures?\b|\bcoils?\b|\bloop recorder\b`,
    ),
  },
];

const SIZE_ABNORMAL = g(String.raw`\b(?:enlarged|enlargement|increased|large|larger|prominent|prominence|widened|widening|wide)\b`);
const SIZE_NORMAL = g(String.raw`\b(?:normal|within normal limits|unremarkable|normal-sized|normal sized)\b`);
const BORDERLINE = g(
  String.raw`\b(?:(?:at |within )?(?:the )?(?:upper|high|top)(?: limits?| range| end)?(?:(?: of)? normal)|upper-normal|top-normal|high-normal|borderline)\b`,
);

const ATTRIBUTES: AttributeRule[] = [
  {
    re: g(String.raw`\b(?:heart|cardiac)(?: (?:size|silhouette|shadow|contours?|diameter|borders?))?\b(?! failure)`),
    abnormalCue: SIZE_ABNORMAL,
    abnormal: ["Cardiomegaly"],
    normalCue: SIZE_NORMAL,
    normal: ["Cardiomegaly"],
  },
  {
    re: g(String.raw`\bcardio-?mediastinal(?: (?:silhouette|contours?|shadow|size|width|structures))?\b`),
    abnormalCue: SIZE_ABNORMAL,
    abnormal: ["Enlarged Cardiomediastinum"],
    normalCue: SIZE_NORMAL,
    normal: ["Enlarged Cardiomediastinum", "Cardiomegaly"],
  },
  {
    re: g(String.raw`\bmediastin(?:um|al)(?: (?:silhouette|contours?|width|shadow|structures))?\b(?! (?:lymph|nodes?|adenopathy|lymphadenopathy|mass))`),
    abnormalCue: SIZE_ABNORMAL,
    abnormal: ["Enlarged Cardiomediastinum"],
    normalCue: SIZE_NORMAL,
    normal: ["Enlarged Cardiomediastinum"],
  },
  {
    re: g(String.raw`\blungs?(?: (?:fields?|parenchyma|zones?|bases?))?\b(?! volumes?)`),
    abnormal: [],
    normalCue: g(String.raw`\b(?:clear|normal|unremarkable)\b`),
    normal: ["Lung Opacity", "Consolidation", "Pneumonia"],
    skipOtherwise: true,
  },
  {
    re: g(String.raw`\bcostophrenic (?:angles?|sulci|sulcus|recess(?:es)?)\b`),
    abnormalCue: g(String.raw`\bblunt(?:ed|ing)?\b`),
    abnormal: ["Pleural Effusion"],
    normalCue: g(String.raw`\b(?:sharp|sharply|clear|normal)\b`),
    normal: ["Pleural Effusion"],
    weak: true,
  },
];

// --- cue lexicons -------------------------------------------------------------------------------

const PRE_UNCERTAIN = new RegExp(
  String.raw`\b(?:possibl[ey]|probabl[ey]|may|might|could|cannot exclude|can not exclude|cannot rule out|can not rule out|not exclude|not rule out|questionabl[ey]|question of|suspicious (?:for|of)|suspect(?:ed)?|(?<!to )suggest(?:s|ive of|ing)?|concerning for|concern for|worrisome for|likely|presumabl[ey]|presumed|versus|vs|differential|rule out|r/o|equivocal|indeterminate|borderline)\b|(?:^|\s)\?`,
);
const POST_UNCERTAIN_NEAR = new RegExp(
  String.raw`^[\s,]*(?:versus|vs)\b|^\s*\?|^\s*(?:[\w-]+\s+){0,3}?(?:cannot|can not|could not|may not)\s+(?:be\s+)?(?:entirely |completely |totally |definitely )?(?:excluded|ruled out)\b`,
);
const POST_UNCERTAIN_VERB = new RegExp(
  String.raw`^(?:is|are|was|were)\s+(?:[\w-]+\s+)?(?:possible|possibly|questionable|questioned|suspected|likely|probable|equivocal|uncertain|a consideration|considered|not (?:entirely |completely |totally |definitely )?(?:excluded|ruled out))\b`,
);
const NEG_PRE = g(
  String.raw`\b(?:no|not|without|negative for|free of|clear of|absence of|absent|resolution of|resolved|removal of|rather than|nor|neither)\b`,
);
const NOT_A_NEGATION = new RegExp(
  String.raw`^\s+(?:[\w-]+\s+){0,2}?(?:change|changes|changed|increase|increased|decrease|decreased|worsening|progression|improvement|interval change)\b`,
);
const NEG_TERMINATOR = new RegExp(
  String.raw`\b(?:but|however|although|though|whereas|while|aside from|apart from|except|with the exception of|which|that|and the|and there|is|are|was|were|has|have|had|shows?|demonstrates?|reveals?)\b`,
);
const POST_NEG_NEAR = new RegExp(
  String.raw`^\s*(?:[\w-]+\s+){0,2}?(?:not|no longer)\s+(?:seen|identified|present|visualized|appreciated|demonstrated|noted|evident|detected|visible|apparent)\b|^\s*(?:resolved|removed)\b`,
);
const POST_NEG_VERB = new RegExp(
  String.raw`^(?:is|are|was|were|has|have|had)\s+(?:been\s+)?(?:not|no longer)\s+(?:[\w-]+\s+)?(?:seen|identified|present|visualized|appreciated|demonstrated|noted|evident|detected|visible|apparent|enlarged|widened|increased)\b` +
    String.raw`|^(?:is|are|was|were|has|have|had)\s+(?:(?:been|now|since|completely|nearly|largely|entirely)\s+)*(?:resolved|removed|cleared|absent|withdrawn)\b` +
    String.raw`|^(?:is|are|was|were|appears?)\s+(?:to be\s+)?(?:normal|within (?:normal limits|limits of normal))\b`,
);
const VERB = /\b(?:is|are|was|were|has|have|had|appears?)\b/;
const CLAUSE_BREAK = g(String.raw`[,:]|\b(?:but|however|although|though|whereas|while|except|aside from|apart from|with the exception of)\b`);
const STRONG_BREAK = g(String.raw`\b(?:but|however|although|though|whereas|while|except|aside from|apart from|with the exception of)\b`);
const NEGATED_BETWEEN = /\b(?:not|no|without)\b/;

// --- helpers -----------------------------------------------------------------------------------

interface Span {
  start: number;
  end: number;
}

function matches(re: RegExp, text: string, offset = 0): Span[] {
  const out: Span[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    out.push({ start: m.index + offset, end: m.index + m[0].length + offset });
  }
  return out;
}

/** Sentences: split on . ! ; and line breaks, but not on decimal points ("1.5 cm"). */
export function splitSentences(text: string): string[] {
  return text
    .toLowerCase()
    .split(/(?<!\d)\.|\.(?!\d)|[!;\n\r]/)
    .map((s) => s.replace(/\s+/g, " ").trim())
    .filter((s) => s.length > 0);
}

/** [start, end) of the piece of `s` around `pos` delimited by `breaks`. */
function pieceAt(s: string, breaks: RegExp, pos: number): Span {
  let start = 0;
  let end = s.length;
  for (const b of matches(breaks, s)) {
    if (b.end <= pos) start = b.end;
    else if (b.start >= pos) {
      end = b.start;
      break;
    }
  }
  return { start, end };
}

const tokenCount = (text: string) => (text.match(/\S+/g) ?? []).length;

/** The text from the first verb after a mention (within a few words), for "X is not seen". */
function fromFirstVerb(after: string): string | undefined {
  const m = VERB.exec(after);
  if (!m || tokenCount(after.slice(0, m.index)) > 8) return undefined;
  return after.slice(m.index);
}

function preNegated(s: string, start: number): boolean {
  const cues = matches(NEG_PRE, s.slice(0, start));
  const cue = cues[cues.length - 1];
  if (!cue) return false;
  if (NOT_A_NEGATION.test(s.slice(cue.end))) return false;
  const between = s.slice(cue.end, start);
  return !NEG_TERMINATOR.test(between) && tokenCount(between) <= 15;
}

/**
 * Status of a mention span [start, end) in sentence s: 1, 0 or -1. `between` is text inside the
 * span that may carry a negation (attribute mentions: "heart is not enlarged").
 */
function mentionStatus(s: string, span: Span, between = ""): 1 | 0 | -1 {
  const clause = pieceAt(s, CLAUSE_BREAK, span.start);
  const before = s.slice(clause.start, span.start);
  const afterEnd = pieceAt(s, STRONG_BREAK, span.end).end;
  const after = s.slice(span.end, Math.max(afterEnd, span.end));
  const verbPart = fromFirstVerb(after);
  if (PRE_UNCERTAIN.test(before) || PRE_UNCERTAIN.test(between)) return -1;
  if (POST_UNCERTAIN_NEAR.test(after) || (verbPart !== undefined && POST_UNCERTAIN_VERB.test(verbPart))) return -1;
  if (NEGATED_BETWEEN.test(between)) return 0;
  if (preNegated(s, span.start)) return 0;
  if (POST_NEG_NEAR.test(after) || (verbPart !== undefined && POST_NEG_VERB.test(verbPart))) return 0;
  return 1;
}

type CueKind = "borderline" | "abnormal" | "normal";

/** The cue nearest to an attribute mention: up to 4 words before (more across "and"), or after, in its clause. */
function nearestCue(s: string, rule: AttributeRule, mention: Span): { kind: CueKind; span: Span } | undefined {
  const clause = pieceAt(s, CLAUSE_BREAK, mention.start);
  const words = [...s.slice(clause.start, mention.start).matchAll(/\S+/g)];
  let back = Math.min(4, words.length);
  if (words.slice(words.length - back).some((w) => w[0] === "and")) back = Math.min(7, words.length);
  const preStart = back === 0 ? mention.start : clause.start + words[words.length - back]!.index!;
  const windows: Span[] = [
    { start: preStart, end: mention.start },
    { start: mention.end, end: Math.max(mention.end, clause.end) },
  ];
  const found: { kind: CueKind; span: Span }[] = [];
  for (const w of windows) {
    const text = s.slice(w.start, w.end);
    const borderline = rule.abnormalCue ? matches(BORDERLINE, text, w.start) : [];
    const overlaps = (x: Span) => borderline.some((b) => x.start < b.end && b.start < x.end);
    found.push(...borderline.map((span) => ({ kind: "borderline" as const, span })));
    if (rule.abnormalCue) found.push(...matches(rule.abnormalCue, text, w.start).filter((x) => !overlaps(x)).map((span) => ({ kind: "abnormal" as const, span })));
    for (const span of matches(rule.normalCue, text, w.start)) {
      if (overlaps(span)) continue;
      if (rule.skipOtherwise && /\botherwise\s+(?:[\w-]+\s+)?$/.test(s.slice(0, span.start))) continue;
      found.push({ kind: "normal", span });
    }
  }
  const distance = (x: Span) => (x.end <= mention.start ? mention.start - x.end : x.start - mention.end);
  found.sort((a, b) => distance(a.span) - distance(b.span));
  return found[0];
}

function set(labels: Labels, obs: Observation[], value: LabelValue): void {
  for (const o of obs) labels[o] = mergeLabel(labels[o], value);
}

/** Labels of one sentence (lowercase, as from splitSentences), without "No Finding". */
function sentenceLabels(s: string, labels: Labels): void {
  for (const rule of DIRECT) {
    for (const m of matches(rule.re, s)) {
      const st = mentionStatus(s, m);
      set(labels, rule.obs, rule.weak && st === 1 ? -1 : st);
    }
  }
  for (const rule of ATTRIBUTES) {
    for (const m of matches(rule.re, s)) {
      const cue = nearestCue(s, rule, m);
      if (!cue) continue;
      if (cue.kind === "normal") {
        set(labels, rule.normal, 0);
        continue;
      }
      if (cue.kind === "borderline") {
        set(labels, rule.abnormal, -1);
        continue;
      }
      const span = { start: Math.min(m.start, cue.span.start), end: Math.max(m.end, cue.span.end) };
      const between = cue.span.start >= m.end ? s.slice(m.end, cue.span.start) : s.slice(cue.span.end, m.start);
      const st = mentionStatus(s, span, between);
      set(labels, rule.abnormal, rule.weak && st === 1 ? -1 : st);
    }
  }
}

const NOT_ASSESSED = /\bnot (?:well )?(?:be )?(?:assessed|evaluated)\b/;

/** Observations the text says were not assessed ("Pneumonia was not assessed."). */
export function notAssessed(text: string): Observation[] {
  const named = emptyLabels();
  for (const s of splitSentences(text)) if (NOT_ASSESSED.test(s)) sentenceLabels(s.replace(NOT_ASSESSED, ""), named);
  return OBSERVATIONS.filter((o) => named[o] !== null);
}

/** CheXpert-14 labels of a report text. */
export function extractLabels(text: string): Labels {
  const labels = emptyLabels();
  for (const s of splitSentences(text)) if (!NOT_ASSESSED.test(s)) sentenceLabels(s, labels);
  return withNoFinding(labels);
}

/**
 * Observations that one sentence states present or uncertain and another states absent ("The
 * cardiomediastinal silhouette is enlarged. … is within normal limits."); No Finding excluded.
 */
export function selfContradictions(text: string): Observation[] {
  const said = new Map<Observation, Set<"stated" | "denied">>();
  for (const s of splitSentences(text)) {
    if (NOT_ASSESSED.test(s)) continue;
    const labels = emptyLabels();
    sentenceLabels(s, labels);
    for (const o of OBSERVATIONS) {
      const v = labels[o];
      if (o === "No Finding" || v === null) continue;
      if (!said.has(o)) said.set(o, new Set());
      said.get(o)!.add(v === 0 ? "denied" : "stated");
    }
  }
  return [...said.entries()].filter(([, v]) => v.size === 2).map(([o]) => o);
}

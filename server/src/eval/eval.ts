/**
 * `npm run eval`: evaluates the bundled xraygpt-mini on ../shared/data and writes
 * models/xraygpt-mini/EVAL.md — vision (NIH ChestX-ray14 out-of-fold and val per source, COVID-CXR
 * views, PneumoniaMNIST val), summaries against NIH labels end to end, language with findings given
 * (IU X-ray val, with baselines), faithfulness, chat answers, and end-to-end summaries (and one
 * chat answer) of the samples.
 *
 *   node server/dist/eval/eval.js [--data DIR] [--skip-e2e] [--parts vision,nih-text,tokenizer,temperature,language,samples | --render]
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadManifest } from "../models/manifest.js";
import { MANIFEST_PATH, MODEL_DIR } from "../models/xraygpt-mini/paths.js";
import { evaluateVision, type VisionEval } from "./vision-eval.js";
import { evaluateLanguage, loadStudies, type LanguageEval } from "./language-eval.js";
import { evaluateChat, type QuestionScore } from "./chat-eval.js";
import { SAMPLE_QUESTION, summarizeSamples, type SampleSummary } from "./samples-eval.js";
import { evaluateTokenizer } from "./tokenizer-eval.js";
import { evaluateTemperatures, ships, type TemperatureEval } from "./temperature-eval.js";
import { evaluateNih, evaluateNihText, MIN_POSITIVES, type NihEval, type NihTextEval, type SetScore } from "./nih-eval.js";
import { checkTexts, type TextCheckCounts } from "./text-checks.js";
import { vocabulary } from "../metrics/index.js";
import { lexicon } from "../host/consensus.js";
import type { ParityResult } from "../models/xraygpt-mini/tokenizer-parity.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function fmt(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || Number.isNaN(v) ? "n/a" : v.toFixed(digits);
}

function metric(s: LanguageEval["systems"][number], name: string): string {
  const m = s.scores.metrics.find((x) => x.name === name);
  if (!m) return "n/a";
  return m.ci95 ? `${fmt(m.value)} (${fmt(m.ci95.low)}–${fmt(m.ci95.high)})` : fmt(m.value);
}

function ci(c: { low: number; high: number } | null): string {
  return c ? `${fmt(c.low)}–${fmt(c.high)}` : "n/a";
}

function nihTable(out: string[], s: SetScore): void {
  out.push("| source | observation | n | positives | AUC (95% CI) | F1 @ threshold |", "|---|---|---|---|---|---|");
  for (const p of s.pairs) out.push(`| ${p.source} | ${p.observation} | ${p.n} | ${p.positives}${p.source !== "pooled" && p.positives < MIN_POSITIVES ? " (not counted)" : ""} | ${fmt(p.auc)} (${ci(p.ci)}) | ${fmt(p.f1)} |`);
  out.push("", `**Mean AUC within source** over the ${s.counted} (source, observation) pairs with ≥ ${MIN_POSITIVES} positives: **${fmt(s.withinSourceMean)}**.`, "");
}

export interface AdultEval {
  nih: NihEval;
  text: NihTextEval | string;
  checks: TextCheckCounts;
  /** The consensus decoding settings compared on IU train, and the one the manifest ships (if any). */
  temperature: TemperatureEval;
  shippedDecoding: string | undefined;
}

export function renderMarkdown(v: VisionEval, l: LanguageEval, chat: QuestionScore[], samples: SampleSummary[] | string, tok: ParityResult | undefined, adult: AdultEval): string {
  const out: string[] = [];
  const { nih } = adult;
  out.push("# xraygpt-mini — evaluation", "", `Written by \`npm run eval\` (server/src/eval/eval.ts) on ${new Date().toISOString().slice(0, 10)} from ../shared/data. Validation splits only; the hidden test splits are not available here.`, "");
  out.push("## Vision: NIH ChestX-ray14 (adult frontal radiographs)", "");
  out.push(
    "Every image through the daemon's decode (server/src/pipeline/decode) and preprocess (server/src/pipeline/preprocess.ts) and onnxruntime-node (CPU). The two NIH subsets are confounded with the labels (nearly all Pneumonia and Edema positives are in nih-1024, most Cardiomegaly in nih-64), so AUC is computed **within each source**; the pooled rows are for reference only. Positive = the manifest's status \"positive\" (threshold 0.5 on the calibrated probability; the uncertain band counts as negative). 95% intervals: percentile bootstrap over images, 1000 resamples, seed 7.",
    "",
  );
  out.push("### Out-of-fold, NIH train split (5-fold cross-validation by patient)", "", "Each image scored by the ensemble member that did not train on its patient fold (the ONNX's `members` output; fold = fnv1a32(patient) % 5). These are the figures the model and its thresholds were selected on.", "");
  nihTable(out, nih.oof);
  out.push("### NIH val (patients never trained or tuned on), the ensemble as the daemon runs it", "");
  nihTable(out, nih.val);
  out.push(`COVID-CXR view (frontal / lateral) on the held-out patients (fnv1a32("covid:" + patientid) % 5 = 0): **${nih.viewAccuracy.correct} / ${nih.viewAccuracy.n} = ${fmt(nih.viewAccuracy.correct / Math.max(1, nih.viewAccuracy.n), 4)}**. Vision: ${fmt(nih.msPerImage, 2)} ms / image (onnxruntime-node, one thread).`, "");
  out.push("## Summaries against NIH labels, end to end (NIH val)", "");
  if (typeof adult.text === "string") out.push(adult.text, "");
  else {
    const t = adult.text;
    out.push(`${t.n} NIH val images, each summarized by the engine as \`xraygpt summarize\` does (decode → vision → findings line → report writer, consensus decoding as the manifest sets it); the label extractor on the text (uncertain counts as stated) against the image's NIH labels.`, "");
    out.push("| observation | TP | FP | FN | F1 |", "|---|---|---|---|---|");
    for (const r of t.perObservation) out.push(`| ${r.observation} | ${r.tp} | ${r.fp} | ${r.fn} | ${fmt(r.f1)} |`);
    out.push("", `**Micro F1 over the 7 observations: ${fmt(t.micro)}** (${t.bySource.map((b) => `${b.source} ${fmt(b.micro)}`).join(", ")}).`, "");
    out.push(`Summaries that state a finding at a side, lobe or zone (the findings line places nothing; server/src/metrics/answer-checks.ts placedFindings): ${t.placing} of ${t.n}${t.placingExample ? ` (e.g. "${t.placingExample}")` : ""}.`, "");
    for (const e of t.examples) out.push(`- **${e.file}** (NIH: ${e.labels.join(", ") || "none of the 7"}) — \`${e.findings}\`  `, `  ${e.text}`);
    out.push("");
  }
  out.push("## Vision: PneumoniaMNIST val", "", "Through the daemon's own preprocess (server/src/pipeline/preprocess.ts) and onnxruntime-node (CPU); the Pneumonia output.", "");
  out.push("| n | positives | AUC | accuracy @ manifest threshold | threshold | accuracy @ 0.5 | ms / image |", "|---|---|---|---|---|---|---|");
  out.push(`| ${v.n} | ${v.positives} | ${fmt(v.auc, 4)} | ${fmt(v.accuracy, 4)} | ${v.threshold} | ${fmt(v.accuracyAt05, 4)} | ${fmt(v.msPerImage, 2)} |`, "");
  out.push("Published results on the official *test* split (MedMNIST v2): ResNet-50 (224) AUC 0.962 / ACC 0.884; Google AutoML Vision 0.991 / 0.946.", "");
  if (tok) {
    out.push("## Tokenizer parity", "", `node-llama-cpp 3.21.1 with the GGUF against the SentencePiece model, on every IU X-ray training report (findings + impression): ${tok.checked - tok.mismatches.length} of ${tok.checked} tokenize identically.`, "");
  }
  out.push("## Language: IU X-ray val, findings given", "");
  out.push(`${l.n} studies. The findings line lists all 14 CheXpert observations from the MeSH labels (server/src/metrics/mesh-to-chexpert.ts) in the daemon's format; decoding as the manifest sets it (consensus decoding when it gives \`candidates\` > 1: the greedy answer plus sampled ones, answering with the one that agrees most with the others by ROUGE-L; plain greedy decoding is scored too); scored on findings + impression with server/src/metrics (ROUGE F-measure means, corpus BLEU; 95% bootstrap intervals). Label F1 compares extracted labels of generated and reference texts.`, "");
  out.push("| system | ROUGE-1 | ROUGE-2 | ROUGE-L | BLEU-4 | label F1 (micro) vs reference |", "|---|---|---|---|---|---|");
  for (const s of l.systems) out.push(`| ${s.name} | ${metric(s, "ROUGE-1")} | ${metric(s, "ROUGE-2")} | ${metric(s, "ROUGE-L")} | ${metric(s, "BLEU-4")} | ${metric(s, "Label F1 (micro)")} |`);
  out.push("", "Anchors: XrayGPT ROUGE-L 0.1997 on OpenI summaries; R2Gen ROUGE-L 0.371 on IU X-ray (from images). Goal here: ROUGE-L at or above the most-typical-same-label baseline (with only the findings line as input the ceiling is about 0.38; see below).", "");
  const t = adult.temperature;
  out.push("### Consensus decoding settings, compared on training studies", "");
  out.push(
    `The greedy answer and ${[...new Set(t.scores.map((s) => (s.settings.candidates ?? 1) - 1))].join(" or ")} sampled candidates: at which temperature, and whether the last ones are evidence (sampled at 1.0, what the others are scored against; the answer only when no other candidate does as well on the findings checks). Compared on ${t.n} IU X-ray *train* studies (the first by fnv1a32 of the uid; ${t.distinctLines} distinct findings lines), never on val: mean ROUGE-L of the product's text against each study's own report, for each of ${t.seeds.length} candidate seeds (${t.seeds.join(", ")}): one text serves every all-negative study, so one set of samples moves the mean by a few hundredths. Best mean: ${t.best}.`,
    "",
  );
  out.push("| candidates | ROUGE-L mean over seeds (train sample) | per seed | no positive finding | one or more | text for the all-negative line (seed 0) |", "|---|---|---|---|---|---|");
  for (const x of t.scores) out.push(`| ${x.name}${x.name === adult.shippedDecoding ? " (**shipped**)" : ""} | ${fmt(x.mean)} | ${x.bySeed.map((f) => fmt(f)).join(" / ")} | ${fmt(x.normal)} | ${fmt(x.abnormal)} | ${x.normalText} |`);
  out.push("");
  out.push("### What the findings line allows", "");
  out.push(
    `With the findings given, the answer depends only on the findings line (decoding is seeded), so every study with the same positive labels gets the same text. ROUGE-L by subset: ${l.normalStudies} studies with no positive finding, ${l.n - l.normalStudies} with one or more. The last row is an upper bound for one text per label set, not a system: per label set, the training report that scores best on those val studies, chosen on them.`,
    "",
  );
  out.push("| | no positive finding | one or more positives | all |", "|---|---|---|---|");
  for (const r of l.bySubset) out.push(`| ${r.name} | ${fmt(r.normal)} | ${fmt(r.abnormal)} | ${fmt(r.all)} |`);
  out.push("");
  out.push("## Faithfulness to the given findings", "", "Labels extracted from the generated text (server/src/metrics/label-extractor.ts) against the labels given in the prompt (13 observations, No Finding excluded; uncertain counts as positive).", "");
  out.push("| system | F1 (extracted vs given) | stated-but-not-given rate | reports with an unsupported finding | \"nothing abnormal\" despite a given acute finding |", "|---|---|---|---|---|");
  for (const s of l.systems)
    out.push(`| ${s.name} | ${fmt(s.faithfulness.f1)} | ${fmt(s.faithfulness.statedNotGiven)} | ${fmt(s.faithfulness.reportsWithUnsupported)} | ${fmt(s.faithfulness.noAcuteDespiteAcute)} |`);
  out.push("", "Goals: F1 ≥ 0.9; stated-but-not-given 0. The last column: of the studies given pneumonia, consolidation, edema or pneumothorax, the share whose text says the chest as a whole is normal (\"No acute cardiopulmonary disease.\", \"Normal chest.\"; server/src/host/consensus.ts saysNothingAbnormal).", "");
  out.push(`Generation speed (the model process: the project's addon, CPU, one thread, several evaluations side by side; every candidate's tokens counted): ${fmt(l.tokensPerSecond, 0)} tokens/s.`, "");
  const c = adult.checks;
  const offTopic = chat.reduce((a, q) => a + q.offTopic, 0);
  const offExample = chat.find((q) => q.offTopicExample);
  out.push("### Text checks (goal 0 each)", "");
  out.push("| check | count |", "|---|---|");
  out.push(`| reports (of ${c.texts}) with a word not in the IU X-ray training reports' vocabulary | ${c.withUnknownWords}${c.unknownWords.length ? ` (${c.unknownWords.slice(0, 8).map(([w, n]) => `"${w}" ×${n}`).join(", ")})` : ""} |`);
  out.push(`| reports stating an observation both present and absent | ${c.selfContradicting}${c.contradictionExample ? ` (e.g. "${c.contradictionExample}")` : ""} |`);
  out.push(`| reports stating a finding at a side, lobe or zone (the findings line places nothing) | ${c.placing}${c.placingExample ? ` (e.g. "${c.placingExample}")` : ""} |`);
  out.push(`| chat answers (of ${chat.reduce((a, q) => a + q.positives.n + q.negatives.n, 0)}, below) not about the observation asked | ${offTopic}${offExample ? ` (e.g. ${offExample.question} → "${offExample.offTopicExample}")` : ""} |`, "");
  out.push("### Examples", "");
  for (const e of l.examples) out.push(`- **${e.uid}** — given: \`${e.findingsLine}\`  `, `  generated: ${e.generated}  `, `  reference: ${e.reference}`);
  out.push("", "## Chat: yes/no questions, findings given", "");
  out.push(
    "IU X-ray val, all 14 observations in the findings line, the question as the first turn, decoded as the manifest sets it (the check does not require an answer to restate every positive). An answer agrees when the label extractor reads the asked observation in it as the line gives it. Per question: every study given that observation as positive, and the first 40 given it as negative.",
    "",
  );
  out.push("| question | agrees, given positive | agrees, given negative | not about the observation asked |", "|---|---|---|---|");
  for (const q of chat) out.push(`| ${q.question} | ${q.positives.agree} / ${q.positives.n} | ${q.negatives.agree} / ${q.negatives.n} | ${q.offTopic} |`);
  out.push("", "## End to end: ../shared/data/samples", "");
  if (typeof samples === "string") out.push(samples);
  else for (const s of samples) out.push(`- **${s.file}** (${fmt(s.ms, 0)} ms) — \`${s.findings}\`  `, `  ${s.text}  `, `  *${SAMPLE_QUESTION}* ${s.answer}`);
  out.push("");
  return out.join("\n");
}

/** The sections of the evaluation; `--parts a,b` runs only those (e.g. in parallel processes). */
const PARTS = ["vision", "nih-text", "tokenizer", "temperature", "language", "samples"] as const;
type Part = (typeof PARTS)[number];

/**
 * Runs the requested parts, keeps each part's result in train/work/eval-parts/PART.json (not
 * committed), and writes EVAL.md once every part has a result (computed now or by an earlier
 * `--parts` run of the same model).
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dataArg = args.indexOf("--data");
  const dataDir = resolve(dataArg >= 0 ? args[dataArg + 1]! : join(ROOT, "..", "shared", "data"));
  if (!existsSync(join(dataDir, "iu-xray", "reports.csv"))) throw new Error(`${dataDir}: no iu-xray/reports.csv (pass --data DIR)`);
  const partsArg = args.indexOf("--parts");
  // --render: compute nothing, write EVAL.md from the stored parts.
  const run = new Set<string>(args.includes("--render") ? [] : partsArg >= 0 ? args[partsArg + 1]!.split(",") : PARTS);
  for (const p of run) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`unknown part "${p}" (parts: ${PARTS.join(", ")})`);
  const skipE2e = args.includes("--skip-e2e");
  const store = join(MODEL_DIR, "train", "work", "eval-parts");
  await mkdir(store, { recursive: true });
  const m = await loadManifest(MANIFEST_PATH);
  const studies = loadStudies(dataDir);
  // The lexicon consensus decoding uses must be the vocabulary the text checks count against.
  const trainVocabulary = vocabulary(studies.train.map((s) => s.reference));
  if (m.lexiconPath) {
    const words = lexicon(m.lexiconPath);
    const same = words.size === trainVocabulary.size && [...words].every((w) => trainVocabulary.has(w));
    if (!same) throw new Error(`${m.lexiconPath} (${words.size} words) is not the IU X-ray training reports' vocabulary (${trainVocabulary.size} words): rerun models/xraygpt-mini/train/lexicon.py`);
    console.log(`lexicon: ${words.size} words, the IU X-ray training reports' vocabulary`);
  }
  const part = async <T,>(name: Part, compute: () => Promise<T>): Promise<T | undefined> => {
    const file = join(store, `${name}.json`);
    if (run.has(name)) {
      const value = await compute();
      await writeFile(file, JSON.stringify(value));
      return value;
    }
    return existsSync(file) ? (JSON.parse(await readFile(file, "utf8")) as T) : undefined;
  };
  const vision = await part("vision", async () => {
    console.log("vision: NIH ChestX-ray14 (out-of-fold and val), COVID-CXR views …");
    const nih = await evaluateNih(m, dataDir, console.log);
    console.log(`  out-of-fold within-source mean AUC ${fmt(nih.oof.withinSourceMean)} (${nih.oof.counted} pairs); val ${fmt(nih.val.withinSourceMean)} (${nih.val.counted} pairs); view ${nih.viewAccuracy.correct}/${nih.viewAccuracy.n}`);
    console.log("vision: PneumoniaMNIST val …");
    const v = await evaluateVision(m, dataDir);
    console.log(`  AUC ${fmt(v.auc, 4)} ACC ${fmt(v.accuracy, 4)} @ ${v.threshold} (ACC@0.5 ${fmt(v.accuracyAt05, 4)})`);
    return { nih, v };
  });
  const text = await part("nih-text", async (): Promise<NihTextEval | string> => {
    if (skipE2e) return "(skipped with --skip-e2e)";
    console.log("summaries: NIH val end to end …");
    const t = await evaluateNihText(dataDir, console.log);
    console.log(`  micro F1 ${fmt(t.micro)}`);
    return t;
  });
  const tok = await part("tokenizer", async () => {
    console.log("tokenizer: every IU X-ray training report …");
    const t = await evaluateTokenizer(m, dataDir);
    console.log(`  ${t.checked - t.mismatches.length} of ${t.checked} tokenize identically`);
    return t;
  });
  const shippedDecoding = (t: TemperatureEval) => t.scores.find((s) => ships(m.manifest.generation, s))?.name;
  const temperature = await part("temperature", async () => {
    console.log("temperature: consensus decoding settings on IU X-ray train studies …");
    const t = await evaluateTemperatures(m, studies.train, 500, console.log);
    console.log(`  best: ${t.best} (shipped: ${shippedDecoding(t) ?? "none of these"})`);
    return t;
  });
  const language = await part("language", async () => {
    console.log("language: IU X-ray val, findings given …");
    const l = await evaluateLanguage(m, studies, console.log);
    for (const s of l.systems)
      console.log(`  ${s.name}: ${s.scores.metrics.map((x) => `${x.name} ${fmt(x.value)}`).join(", ")}; faithfulness F1 ${fmt(s.faithfulness.f1)}, stated-not-given ${fmt(s.faithfulness.statedNotGiven)}`);
    console.log(`  ${fmt(l.tokensPerSecond, 0)} tokens/s`);
    console.log("chat: yes/no questions, IU X-ray val, findings given …");
    const chat = await evaluateChat(m, studies.val, 40, console.log);
    return { l, chat };
  });
  const samples = await part("samples", async (): Promise<SampleSummary[] | string> => {
    if (skipE2e) return "(skipped with --skip-e2e)";
    const samplesDir = join(dataDir, "samples");
    const files = readdirSync(samplesDir).filter((f) => f.endsWith(".png")).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    const out = await summarizeSamples(files.map((f) => join(samplesDir, f)));
    for (const s of out) console.log(`\n${s.file}: ${s.findings}\n  ${s.text}\n  ${SAMPLE_QUESTION} ${s.answer}`);
    return out;
  });
  const missing = PARTS.filter((_, i) => [vision, text, tok, temperature, language, samples][i] === undefined);
  if (missing.length || !vision || !text || !tok || !temperature || !language || !samples) {
    console.log(`EVAL.md not written: no result yet for ${missing.join(", ")} (run with --parts ${missing.join(",")})`);
    return;
  }
  const checks = checkTexts(language.l.generated, trainVocabulary);
  console.log(`text checks: ${checks.withUnknownWords} reports with unknown words, ${checks.selfContradicting} self-contradicting; chat off topic ${language.chat.reduce((a, q) => a + q.offTopic, 0)}`);
  // Which setting ships is the manifest's now (the part may have run before it changed).
  const md = renderMarkdown(vision.v, language.l, language.chat, samples, tok, { nih: vision.nih, text, checks, temperature, shippedDecoding: shippedDecoding(temperature) });
  await writeFile(join(MODEL_DIR, "EVAL.md"), md);
  console.log(`\nwrote ${join(MODEL_DIR, "EVAL.md")}`);
}

main().catch((e: Error) => {
  console.error(`eval failed: ${e.message}`);
  process.exit(1);
});

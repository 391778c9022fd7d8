/**
 * Parity of the committed GGUF with the PyTorch model and the SentencePiece tokenizer it was
 * trained with: fixtures written by models/xraygpt-mini/train/export.py at export time.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { getLlama, type Llama, type LlamaModel, type Token } from "node-llama-cpp";
import { loadManifest } from "../manifest.js";
import { MANIFEST_PATH, PARITY_DIR, pythonUnavailable } from "./paths.js";
import { tokenizerParity } from "./tokenizer-parity.js";
import { mulberry32 } from "../../util/random.js";

interface GenerateFixture {
  tokens: number;
  cases: { prompt: string; promptIds: number[]; greedy: number[]; text: string }[];
}

let llama: Llama;
let model: LlamaModel;

before(async () => {
  const m = await loadManifest(MANIFEST_PATH);
  llama = await getLlama({ gpu: false, build: "never", progressLogs: false });
  model = await llama.loadModel({ modelPath: m.llmPath!, gpuLayers: 0 });
});

after(async () => {
  await model?.dispose();
  await llama?.dispose();
});

/**
 * Texts in the model's own vocabulary: random runs of its pieces, with digits, punctuation,
 * accents, symbols, CJK and odd whitespace between them. (Every training report is checked by
 * `npm run eval`, which reads ../shared/data; tests don't.)
 */
function syntheticTexts(n: number): string[] {
  const random = mulberry32(2024);
  const vocab: string[] = [];
  const size = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
  assert.ok(size > 100, `vocabulary of ${size} pieces`);
  for (let id = 0; id < size; id++) {
    const piece = model.detokenize([id as Token]);
    if (piece && !piece.includes("\uFFFD") && !/^<.*>$/.test(piece)) vocab.push(piece);
  }
  const extras = [" ", "  ", ". ", ", ", "\n", "\n\n", "\t", "1", "2.", " 3 cm", "XXXX", "é", "—", "×", "≥", "µm", "肺", "✓", "(", ")", "/", "-", ":", "%"];
  const pick = <T,>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const texts = [
    "Findings: The heart is normal in size. The lungs are clear. Impression: No acute disease.",
    "Mild cardiomegaly; small left pleural effusion (2 cm). No pneumothorax.",
    "  leading and trailing spaces  ",
    "1. Stable right lower lobe opacity.\n2. XXXX-year-old with dyspnea — compare 01/02/2003.",
    "Heart size normal.  Two spaces.",
    "Line\nbreak",
    "Tabs\there",
    "Numbers 12.5 cm and T11-T12.",
    "Unicode: café, naïve, 5 µm, ±2 °C, → arrow",
    "Emoji 🫁 lungs",
    "",
    "###Patient: View: frontal. Assessed: Pneumonia positive. Describe the given chest x-ray image in detail. ###Doctor:",
    "XXXX XXXX-XXXX (XXXX) [XXXX] {XXXX} 'quotes' \"double\"",
  ];
  while (texts.length < n) {
    const len = 1 + Math.floor(random() * 30);
    let t = "";
    for (let i = 0; i < len; i++) t += random() < 0.8 ? pick(vocab) : pick(extras);
    texts.push(t);
  }
  return texts;
}

test("node-llama-cpp tokenizes exactly as SentencePiece does", (t) => {
  const missing = pythonUnavailable(["sentencepiece"]);
  if (missing) return t.skip(missing);
  const r = tokenizerParity(model, syntheticTexts(3000));
  const examples = r.mismatches.slice(0, 3).map((m) => `${JSON.stringify(m.text.slice(0, 80))}: llama [${m.llama.slice(0, 12).join(",")}…] spm [${m.spm.slice(0, 12).join(",")}…]`);
  assert.equal(r.mismatches.length, 0, `${r.mismatches.length} of ${r.checked} texts tokenize differently:\n${examples.join("\n")}`);
});

test("greedy generation in node-llama-cpp equals PyTorch's token by token", async () => {
  const fx = JSON.parse(await readFile(`${PARITY_DIR}generate.json`, "utf8")) as GenerateFixture;
  assert.ok(fx.cases.length >= 5);
  // One thread: llama.cpp's worker threads spin-wait on each other, which crawls when the CPU is
  // shared with other busy processes.
  const context = await model.createContext({ contextSize: 512, sequences: 1, threads: 1 });
  try {
    const sequence = context.getSequence();
    for (const c of fx.cases) {
      const bos = model.tokens.bos;
      const prompt = [...(bos !== null ? [bos] : []), ...model.tokenize(c.prompt)];
      assert.deepEqual(Array.from(prompt), c.promptIds, `prompt tokens differ for ${JSON.stringify(c.prompt)}`);
      await sequence.clearHistory();
      const got: number[] = [];
      for await (const token of sequence.evaluate(prompt as Token[], { temperature: 0 })) {
        got.push(token);
        if (got.length >= c.greedy.length) break;
      }
      assert.deepEqual(got, c.greedy, `greedy continuation differs for ${JSON.stringify(c.prompt.slice(-80))}: ${JSON.stringify(model.detokenize(got as Token[]))} vs ${JSON.stringify(c.text)}`);
    }
  } finally {
    await context.dispose();
  }
});

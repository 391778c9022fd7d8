/**
 * Benchmark (for `npm run bench`): greedy tokens/s through the soft-token addon against
 * node-llama-cpp's own on the same fixture GGUF and prompt, and the time to splice 32 soft
 * tokens into a sequence.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { getLlama } from "node-llama-cpp";
import { writeTinyLlama } from "../testing/tiny-llama.js";
import { mulberry32 } from "../util/random.js";
import { requireAddon, tempDir } from "./test-support.js";

export interface SoftTokenBench {
  addonTokensPerSecond: number;
  nodeLlamaCppTokensPerSecond: number;
  ratio: number;
  spliceMsFor32Tokens: number;
}

/** Candidate prompts; the first whose greedy continuation has no end-of-generation token is used. */
const PROMPTS = [
  "###Patient: Describe the given chest x-ray image in detail. ###Doctor:",
  "the lungs are clear",
  "heart size is normal and",
  "findings: mild cardiomegaly",
  "impression",
  "no acute cardiopulmonary disease",
];

export async function benchSoftToken(opts: { tokens?: number; threads?: number; rounds?: number } = {}): Promise<SoftTokenBench> {
  const nTokens = opts.tokens ?? 128;
  // One thread by default: the fixture is tiny, so more threads only add synchronisation (and
  // on a shared machine busy-waiting threads make both sides erratic).
  const threads = opts.threads ?? 1;
  const rounds = opts.rounds ?? 3;
  const dir = tempDir("bench-softtoken");
  const gguf = join(dir, "bench.gguf");
  try {
    await writeTinyLlama(gguf, { seed: 5, nEmbd: 256, nLayer: 4, nHead: 8, nFf: 768, contextLength: 1024 });
    const addon = requireAddon();
    const model = await addon.loadModel(gguf, { gpuLayers: 0 });
    const ctx = new addon.Context(model, { nCtx: 512, nThreads: threads });

    // Greedy generation through the addon, stopping at end-of-generation like node-llama-cpp.
    const addonRun = async (prompt: Int32Array): Promise<{ rate: number; tokens: number[] }> => {
      ctx.clear();
      await ctx.decode(prompt, { pos: 0 });
      const sampler = new addon.Sampler(model, { temperature: 0 });
      const tokens: number[] = [];
      const t0 = performance.now();
      while (tokens.length < nTokens) {
        const t = sampler.sample(ctx);
        if (model.isEog(t)) break;
        tokens.push(t);
        await ctx.decode(Int32Array.of(t), { pos: prompt.length + tokens.length - 1 });
      }
      const ms = performance.now() - t0;
      sampler.free();
      return { rate: (tokens.length * 1000) / ms, tokens };
    };

    let prompt: Int32Array | undefined;
    let expected: number[] = [];
    for (const text of PROMPTS) {
      const ids = model.tokenize(text, true);
      const run = await addonRun(ids);
      if (run.tokens.length === nTokens) {
        prompt = ids;
        expected = run.tokens;
        break;
      }
    }
    if (!prompt) throw new Error(`benchSoftToken: every candidate prompt ends (EOS) before ${nTokens} greedy tokens`);
    const promptIds = prompt;

    const splice = async (): Promise<number> => {
      const r = mulberry32(9);
      const rows = Float32Array.from({ length: 32 * model.nEmbd() }, () => r() - 0.5);
      ctx.clear();
      await ctx.decode(promptIds.subarray(0, 4), { pos: 0, logits: "none" });
      const reps = 10;
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) {
        ctx.seqRemove(0, 4, -1);
        await ctx.decode(rows, { pos: 4, logits: "last" });
      }
      return (performance.now() - t0) / reps;
    };

    const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: "error" as never });
    const nlcModel = await llama.loadModel({ modelPath: gguf, gpuLayers: 0 });
    const nlcCtx = await nlcModel.createContext({ contextSize: 512, sequences: 1, threads });
    const sequence = nlcCtx.getSequence();
    const nlcRun = async (): Promise<number> => {
      await sequence.clearHistory();
      const tokens: number[] = [];
      let t0 = 0;
      for await (const token of sequence.evaluate(Array.from(promptIds) as never[], { temperature: 0 })) {
        if (tokens.length === 0) t0 = performance.now(); // the first token comes with the prompt
        if (nlcModel.isEogToken(token)) break;
        tokens.push(token as number);
        if (tokens.length > nTokens) break;
      }
      const ms = performance.now() - t0;
      // Both sides must do the same work: the same greedy tokens.
      if (tokens.slice(0, nTokens).join() !== expected.join()) throw new Error("benchSoftToken: node-llama-cpp's greedy tokens differ from the addon's");
      return (nTokens * 1000) / ms;
    };

    // Interleaved rounds, best of each: the machine's other load hits both sides alike.
    let addonBest = 0;
    let nlcBest = 0;
    await nlcRun();
    for (let r = 0; r < rounds; r++) {
      addonBest = Math.max(addonBest, (await addonRun(promptIds)).rate);
      nlcBest = Math.max(nlcBest, await nlcRun());
    }
    const spliceMs = await splice();
    await nlcCtx.dispose();
    await nlcModel.dispose();
    ctx.free();
    model.free();
    return { addonTokensPerSecond: addonBest, nodeLlamaCppTokensPerSecond: nlcBest, ratio: addonBest / nlcBest, spliceMsFor32Tokens: spliceMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

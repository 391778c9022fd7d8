/**
 * Benchmark (for `npm run bench -- multimodal`): a tiny fixture VLM (testing/tiny-vlm.ts, LLaVA's
 * `mlp` projector, a 512-wide LLM) through the daemon's engine (a model process) against a direct call of the
 * addon in this process, same image, same prompt, greedy: the image-encode time (mtmd) and
 * tokens/s of each, and the daemon's prompt time (encode + decode of image and text) over the
 * direct call's.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { XrayEngine } from "../engine/engine.js";
import { addMultimodalModel, DEFAULT_RADIOLOGY_INSTRUCTION, DEFAULT_SYSTEM_PROMPT } from "../models/multimodal-manifest.js";
import { SoftTokenGenerator } from "../softtoken/generator.js";
import { tempDir } from "../softtoken/test-support.js";
import { writeTinyVlm } from "../testing/tiny-vlm.js";
import { writeSyntheticPng } from "../testing/workspace.js";

export interface MultimodalBench {
  encodeMs: number;
  directTokensPerSecond: number;
  daemonTokensPerSecond: number;
  directPromptMs: number;
  daemonPromptMs: number;
  tokens: number;
}

export async function benchMultimodal(opts: { threads?: number; rounds?: number; tokens?: number } = {}): Promise<MultimodalBench> {
  const threads = opts.threads ?? 1;
  const rounds = opts.rounds ?? 5;
  const maxTokens = opts.tokens ?? 64;
  const dir = tempDir("bench-multimodal");
  try {
    const vlm = await writeTinyVlm(dir, { projector: "mlp", seed: 3, llmEmbd: 512 });
    // A different image each round: each is encoded and decoded (no KV reuse on either side).
    const images = Array.from({ length: rounds }, (_, r) => join(dir, `chest-${r}.png`));
    for (const [r, path] of images.entries()) await writeSyntheticPng(path, r + 2, 256, 256);
    const modelsDir = join(dir, "models");
    await addMultimodalModel({ id: "bench-vlm", modelsDir, gguf: vlm.gguf, mmproj: vlm.mmproj, contextSize: 1024 });
    const settings = { maxTokens, temperature: 0, topP: 0.95, topK: 64, repeatPenalty: 1.05, seed: 0 };

    // Interleaved rounds, best of each: the machine's other load hits both sides alike.
    const g = new SoftTokenGenerator();
    const engine = new XrayEngine({ modelsDirs: [modelsDir], defaultModel: "bench-vlm", threads, device: "cpu" });
    const direct = { encode: [] as number[], rate: [] as number[], prompt: [] as number[] };
    const daemon = { rate: [] as number[], prompt: [] as number[], tokens: 0 };
    try {
      await g.load(vlm.gguf, { gpu: false, gpuLayers: 0, contextSize: 1024, threads });
      const mtmd = g.attachProjector(vlm.mmproj, { useGpu: false, threads });
      await engine.loadModel("bench-vlm");
      const text = g.applyChatTemplate([
        { role: "system", content: DEFAULT_SYSTEM_PROMPT },
        { role: "user", content: `${g.mediaMarker}\n${DEFAULT_RADIOLOGY_INSTRUCTION}` },
      ]);
      for (const path of images) {
        const { data, info } = await sharp(path).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
        const pixels = { data: new Uint8Array(data), width: info.width, height: info.height };
        const t0 = performance.now();
        mtmd.encodeImage(pixels);
        direct.encode.push(performance.now() - t0);
        const out = await g.generateMultimodal({ text, images: [pixels], settings });
        direct.rate.push((1000 * out.tokens) / out.generateMs);
        direct.prompt.push(out.promptMs);
        const s = await engine.summarize({ image: path, generation: { maxTokens, temperature: 0 } });
        daemon.rate.push(s.timings.tokensPerSecond);
        daemon.prompt.push(s.timings.promptMs);
        daemon.tokens = s.timings.tokens;
      }
    } finally {
      await g.dispose();
      await engine.dispose();
    }
    return {
      encodeMs: Math.min(...direct.encode),
      directTokensPerSecond: Math.max(...direct.rate),
      daemonTokensPerSecond: Math.max(...daemon.rate),
      directPromptMs: Math.min(...direct.prompt),
      daemonPromptMs: Math.min(...daemon.prompt),
      tokens: daemon.tokens,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

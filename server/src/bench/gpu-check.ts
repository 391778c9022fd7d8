/**
 * `npm run gpu-check`: on a machine with an NVIDIA GPU, loads a model through the engine with
 * device "gpu" and with device "cpu", and prints which device each stage used and the LLM's
 * tokens/s on each. Uses xraygpt-mini when installed, else a generated fixture model; then the
 * same for a tiny multimodal fixture (GGUF + mmproj through libmtmd, testing/tiny-vlm.ts).
 * Exits 1 when no stage could use a GPU.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama } from "node-llama-cpp";
import { XrayEngine } from "../engine/engine.js";
import { BUNDLED_MODELS_DIR } from "../models/registry.js";
import { writeFixtureModel } from "../testing/fixture-model.js";
import { writeSyntheticPng } from "../testing/workspace.js";
import { cudaProviderInstalled } from "../pipeline/vision.js";
import { writeTinyVlm } from "../testing/tiny-vlm.js";
import { addMultimodalModel } from "../models/multimodal-manifest.js";

async function run(device: "gpu" | "cpu", modelsDirs: string[], model: string, image: string) {
  const engine = new XrayEngine({ modelsDirs, defaultModel: model, device });
  try {
    await engine.summarize({ image, generation: { maxTokens: 16 } });
    const r = await engine.summarize({ image, generation: { maxTokens: 200 } });
    const s = engine.status();
    return { vision: s.device.vision, llm: s.device.llm, detail: s.device.detail ?? "", tokensPerSecond: r.timings.tokensPerSecond, visionMs: r.timings.visionMs };
  } finally {
    await engine.dispose();
  }
}

const dir = await mkdtemp(join(tmpdir(), "xraygpt-gpu-"));
try {
  const llama = await getLlama({ gpu: "auto", build: "never" });
  console.log(`llama.cpp GPU backend: ${llama.gpu || "none"}; devices: ${(await llama.getGpuDeviceNames()).join(", ") || "none"}`);
  console.log(`ONNX Runtime CUDA provider installed: ${cudaProviderInstalled() ? "yes" : "no (see README, GPU)"}`);
  const mini = existsSync(join(BUNDLED_MODELS_DIR, "xraygpt-mini", "model.json"));
  const modelsDir = join(dir, "models");
  if (!mini) await writeFixtureModel(modelsDir, "gpu-fixture", { llm: { nEmbd: 512, nLayer: 8, nFf: 1024, contextLength: 2048 }, manifest: { llm: { file: "llm.gguf", contextSize: 2048 } } });
  const model = mini ? "xraygpt-mini" : "gpu-fixture";
  const image = join(dir, "chest.png");
  await writeSyntheticPng(image, 2, 1024, 1024);
  const gpu = await run("gpu", [modelsDir], model, image);
  const cpu = await run("cpu", [modelsDir], model, image);
  console.log(`model: ${model}`);
  console.log(`gpu run: vision on ${gpu.vision} (${gpu.visionMs.toFixed(2)} ms), LLM on ${gpu.llm} [${gpu.detail}] ${gpu.tokensPerSecond.toFixed(0)} tok/s`);
  console.log(`cpu run: vision on ${cpu.vision} (${cpu.visionMs.toFixed(2)} ms), LLM on ${cpu.llm} [${cpu.detail}] ${cpu.tokensPerSecond.toFixed(0)} tok/s`);
  console.log(`LLM tokens/s GPU over CPU: ${(gpu.tokensPerSecond / cpu.tokensPerSecond).toFixed(2)}`);
  // The multimodal path: the LLM offloaded by the addon, the projector on the GPU backend it loaded.
  const vlm = await writeTinyVlm(dir, { projector: "gemma3", llmEmbd: 256 });
  await addMultimodalModel({ id: "gpu-vlm", modelsDir, gguf: vlm.gguf, mmproj: vlm.mmproj, contextSize: 1024 });
  const mmGpu = await run("gpu", [modelsDir], "gpu-vlm", image);
  const mmCpu = await run("cpu", [modelsDir], "gpu-vlm", image);
  console.log(`multimodal fixture, gpu run: LLM on ${mmGpu.llm} [${mmGpu.detail}] ${mmGpu.tokensPerSecond.toFixed(0)} tok/s`);
  console.log(`multimodal fixture, cpu run: LLM on ${mmCpu.llm} [${mmCpu.detail}] ${mmCpu.tokensPerSecond.toFixed(0)} tok/s`);
  process.exitCode = gpu.llm === "cpu" && gpu.vision === "cpu" ? 1 : 0;
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exit(process.exitCode ?? 0);

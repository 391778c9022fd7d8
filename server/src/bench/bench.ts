/**
 * `npm run bench`: speed figures measured in one run on this machine, printed as ratios against
 * raw components where a goal is a ratio. Nothing here is asserted: machines are shared and noisy.
 */
import "../util/no-telemetry.js"; // first: before onnxruntime-node loads
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { getLlama } from "node-llama-cpp";
import { XrayEngine } from "../engine/engine.js";
import { writeFixtureModel } from "../testing/fixture-model.js";
import { writeSyntheticPng } from "../testing/workspace.js";
import { decodeImage, toGrayBytes } from "../pipeline/decode/index.js";
import { preprocess } from "../pipeline/preprocess.js";
import { loadManifest } from "../models/manifest.js";
import { benchDecode } from "../pipeline/decode/bench-decode.js";
import { syntheticGrey, writeDicom } from "../testing/dicom-fixtures.js";
import { benchAnnotate } from "../annotate/bench.js";
import { benchSoftToken } from "../softtoken/bench-softtoken.js";
import { benchMultimodal } from "../multimodal/bench-multimodal.js";
import { benchClients } from "./bench-clients.js";
import { benchHttp } from "./bench-http.js";
import { BUNDLED_MODELS_DIR } from "../models/registry.js";
import { benchConsensusRss, benchConsensusSummaries, benchLlamaServer, benchRawBatched, type ConsensusFigures } from "./bench-consensus.js";

const THREADS = 1;
const rows: { name: string; value: string; goal?: string }[] = [];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function report(name: string, value: string, goal?: string): void {
  rows.push({ name, value, goal });
  console.log(`${name.padEnd(58)} ${value.padEnd(26)} ${goal ?? ""}`);
}

/** `npm run bench -- WORD...` runs only the sections whose name contains one of the words. */
const only = process.argv.slice(2);

async function section(name: string, fn: () => Promise<void>): Promise<void> {
  if (only.length && !only.some((w) => name.includes(w))) return;
  try {
    await fn();
  } catch (e) {
    report(name, `failed: ${(e as Error).message.split("\n")[0]}`);
  }
}

/** Raw node-llama-cpp tokens/s on a GGUF with the same prompt and settings the daemon uses. */
async function rawLlamaTokensPerSecond(gguf: string, prompt: string, tokens: number, rounds = 3): Promise<number> {
  const llama = await getLlama({ gpu: false, build: "never" });
  const model = await llama.loadModel({ modelPath: gguf, gpuLayers: 0 });
  const ctx = await model.createContext({ contextSize: 2048, threads: THREADS });
  const rates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const seq = ctx.getSequence();
    const input = [model.tokens.bos!, ...model.tokenize(prompt)];
    let n = 0;
    let t0 = 0;
    for await (const token of seq.evaluate(input, { temperature: 0 })) {
      void token;
      if (n === 0) t0 = performance.now();
      if (++n > tokens) break;
    }
    rates.push((1000 * tokens) / (performance.now() - t0));
    seq.dispose();
  }
  await ctx.dispose();
  await model.dispose();
  return median(rates);
}

async function main(): Promise<void> {
  console.log(`xraygpt bench — ${new Date().toISOString()} — ${THREADS} thread(s) per model, CPU\n`);
  const dir = await mkdtemp(join(tmpdir(), "xraygpt-bench-"));
  const modelsDir = join(dir, "models");
  // A fixture big enough for timing to mean something: 256-wide, 4 layers, no stop strings.
  await writeFixtureModel(modelsDir, "bench-llm", {
    llm: { nEmbd: 256, nLayer: 4, nFf: 512, contextLength: 2048 },
    manifest: {
      llm: { file: "llm.gguf", contextSize: 2048 },
      prompt: { template: "###Patient: {findings} {prompt} ###Doctor:", stop: [], defaultPrompt: "Describe the image." },
      generation: { maxTokens: 128, temperature: 0, topP: 1, topK: 40, repeatPenalty: 1, seed: 1 },
    },
  });
  const image = join(dir, "chest.png");
  await writeSyntheticPng(image, 1, 512, 512);
  const engine = new XrayEngine({ modelsDirs: [modelsDir], defaultModel: "bench-llm", threads: THREADS, device: "cpu", replicas: "auto" });
  try {
    await section("summary latency (fixture model)", async () => {
      const cold = performance.now();
      await engine.summarize({ image });
      const coldMs = performance.now() - cold;
      const warm: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await engine.summarize({ image });
        warm.push(performance.now() - t);
      }
      report("summary latency: cold / warm (ms)", `${coldMs.toFixed(0)} / ${median(warm).toFixed(0)}`);
      report("warm over cold latency", (median(warm) / coldMs).toFixed(3), "(lower is better)");
    });

    await section("daemon tokens/s over raw node-llama-cpp", async () => {
      const daemonRates: number[] = [];
      const rawRates: number[] = [];
      const gguf = join(modelsDir, "bench-llm", "llm.gguf");
      // Alternating rounds, so both see the same machine state.
      for (let i = 0; i < 4; i++) {
        const r = await engine.summarize({ image, generation: { maxTokens: 128 } });
        daemonRates.push(r.timings.tokensPerSecond);
        rawRates.push(await rawLlamaTokensPerSecond(gguf, `###Patient: ${r.findings.conditioningText} Describe the image. ###Doctor:`, 128, 1));
      }
      const d = median(daemonRates);
      const raw = median(rawRates);
      report("LLM tokens/s: daemon / raw node-llama-cpp", `${d.toFixed(0)} / ${raw.toFixed(0)}`);
      report("daemon tokens/s over raw node-llama-cpp", (d / raw).toFixed(3), "goal ≥ 0.97");
    });

    await section("vision stage over raw ORT run", async () => {
      // The bundled model's vision ONNX when installed (a realistic size), else the fixture's.
      const mini = join(BUNDLED_MODELS_DIR, "xraygpt-mini", "model.json");
      const useMini = existsSync(mini);
      const loaded = await loadManifest(useMini ? mini : join(modelsDir, "bench-llm", "model.json"));
      const visionEngine = useMini ? new XrayEngine({ threads: THREADS, device: "cpu" }) : engine;
      const session = await ort.InferenceSession.create(loaded.visionPath!, { executionProviders: ["cpu"], intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: "all" });
      const { input } = loaded.manifest.vision!;
      const rawTimes: number[] = [];
      const engineTimes: number[] = [];
      // Interleaved, so both see the same machine state; the raw run, like the daemon's stage,
      // comes right after decoding and preprocessing the image (same caches).
      for (let i = 0; i < 200; i++) {
        const fresh = preprocess(toGrayBytes(await decodeImage(image)), input);
        const t = performance.now();
        await session.run({ [input.name]: new ort.Tensor("float32", fresh, [1, input.channels, input.height, input.width]) });
        rawTimes.push(performance.now() - t);
        engineTimes.push((await visionEngine.findings({ image, model: loaded.manifest.id })).timings.visionMs);
      }
      // Saliency maps of every finding of the same image (occlusion, see pipeline/saliency.ts).
      const heatmapTimes: number[] = [];
      for (let i = 0; i < 5; i++) heatmapTimes.push((await visionEngine.findings({ image, model: loaded.manifest.id, heatmap: true })).timings.heatmapMs!);
      report(`heatmaps, all findings of one image (${loaded.manifest.id}, ms)`, median(heatmapTimes).toFixed(1), "goal ≤ 1000");
      if (useMini) await visionEngine.dispose();
      const raw = median(rawTimes);
      const eng = median(engineTimes);
      report(`vision ms/image (${loaded.manifest.id}): daemon stage / raw ORT run`, `${eng.toFixed(3)} / ${raw.toFixed(3)}`);
      report("vision speed: raw time over daemon time", (raw / eng).toFixed(3), "goal ≥ 0.97");
    });

    await section("decode+preprocess 2048² 16-bit DICOM", async () => {
      const { msPerImage } = await benchDecode();
      report("decode+preprocess 2048×2048 16-bit DICOM (ms/image)", msPerImage.toFixed(1), "goal ≤ 25");
    });

    await section("batch annotate over serial", async () => {
      // What research batches hold: full-size 16-bit DICOM radiographs (here 2048×2048, 12-bit).
      const images: string[] = [];
      for (let i = 0; i < 12; i++) {
        const p = join(dir, `batch-${i}.dcm`);
        const pixels = syntheticGrey(2048, 2048, 4095);
        for (let k = i; k < pixels.length; k += 97 + i) pixels[k] = (pixels[k]! + 1000 * (i + 1)) % 4096;
        writeDicom(p, { width: 2048, height: 2048, pixels, bitsStored: 12 });
        images.push(p);
      }
      const r = await benchAnnotate(engine, images, dir, { concurrency: 2, generation: { maxTokens: 32 } });
      report("batch annotate: images/min batch / serial", `${r.batchImagesPerMin.toFixed(0)} / ${r.serialImagesPerMin.toFixed(0)}`);
      report("batch over serial", r.speedup.toFixed(3), "goal ≥ 1.5");
    });

    // Consensus decoding (issue 17): `npm run bench -- consensus` runs only these.
    let consensus: ConsensusFigures | undefined;
    await section("consensus: xraygpt-mini summaries, batched addon vs node-llama-cpp", async () => {
      consensus = await benchConsensusSummaries(report, THREADS);
    });
    await section("consensus: raw batched decode", () => benchRawBatched(report, THREADS, consensus));
    await section("consensus: against llama-server", () => benchLlamaServer(report, THREADS, consensus));
    await section("consensus: RSS over summaries", () => benchConsensusRss(report, THREADS, consensus));

    await section("socket clients", async () => {
      // XRAYGPT_BENCH_CLIENTS / XRAYGPT_BENCH_REQUESTS scale it down (defaults 64 clients, 1000 requests).
      const clients = Number(process.env.XRAYGPT_BENCH_CLIENTS ?? 64);
      const requests = Number(process.env.XRAYGPT_BENCH_REQUESTS ?? 1000);
      const images = [image];
      for (let i = 2; i <= 4; i++) {
        images.push(join(dir, `client-${i}.png`));
        await writeSyntheticPng(images.at(-1)!, i, 512, 512);
      }
      const r = await benchClients({ dir, modelsDir, model: "bench-llm", images, clients, requests, maxTokens: 16 });
      const label = `${clients} socket clients, ${requests} summaries`;
      report(`${label}: requests/s`, r.requestsPerSecond.toFixed(2));
      report(`${label}: latency p50 / p99 (ms)`, `${r.p50Ms.toFixed(0)} / ${r.p99Ms.toFixed(0)}`);
      report(`${label}: per-client mean latency min / max (ms)`, `${r.perClientMeanMs.min.toFixed(0)} / ${r.perClientMeanMs.max.toFixed(0)}`);
      report(`${label}: Jain fairness of per-client mean latency`, r.jain.toFixed(3), "goal ≥ 0.95");
      report(`${label}: errors (10% unreadable files by design)`, String(r.errors));
      report(`${label}: daemon RSS after ${Math.round(requests / 10)} / after all (MB)`, `${r.rssEarlyMb.toFixed(0)} / ${r.rssEndMb.toFixed(0)}`);
      report(`${label}: RSS at the end over RSS after the first 10%`, (r.rssEndMb / r.rssEarlyMb).toFixed(3), "goal ≤ 1.10");
    });
    await section("http: annotate in process vs through serve --http", async () => {
      const images: string[] = [];
      for (let i = 0; i < 8; i++) {
        images.push(join(dir, `http-${i}.png`));
        await writeSyntheticPng(images.at(-1)!, 10 + i, 512, 512);
      }
      const smallImage = join(dir, "http-small.png");
      await writeSyntheticPng(smallImage, 3, 64, 64);
      const requests = Number(process.env.XRAYGPT_BENCH_HTTP_REQUESTS ?? 1000);
      // The bundled model when installed (a realistic size), else the fixture. Its own decoding in
      // both paths: the serving daemon applies its manifest's consensus decoding as in process.
      const mini = join(BUNDLED_MODELS_DIR, "xraygpt-mini", "model.json");
      const [model, manifest] = existsSync(mini) ? ["xraygpt-mini", mini] : ["bench-llm", join(modelsDir, "bench-llm", "model.json")];
      const generation = { maxTokens: 32 };
      const r = await benchHttp({ dir, modelsDir, model, manifest, requestModel: "bench-llm", images, smallImage, generation, rounds: 3, concurrencies: [1, 4, 8], requests, requestMaxTokens: 4, threads: THREADS });
      report(`http: annotate ${model} (≤ 32 tokens) images/min, in process / via serve --http (c=1)`, `${r.inProcessImagesPerMin.toFixed(0)} / ${r.httpImagesPerMin.toFixed(0)}`);
      report("http: serve --http over in process, annotate at concurrency 1", (r.httpImagesPerMin / r.inProcessImagesPerMin).toFixed(3), "goal ≥ 0.9");
      const c1 = r.byConcurrency[0]!.imagesPerMin;
      for (const c of r.byConcurrency) report(`http: annotate via serve --http, concurrency ${c.concurrency} (images/min; × c=1)`, `${c.imagesPerMin.toFixed(0)} (${(c.imagesPerMin / c1).toFixed(2)}×)`);
      report("http: annotate per-image wall via serve --http, c=1, p50 / p99 (ms)", `${r.annotateP50Ms.toFixed(0)} / ${r.annotateP99Ms.toFixed(0)}`);
      const label = `http: ${requests} chat requests (bench-llm fixture, 4 clients, max_tokens 4 to keep it short, 64² PNG)`;
      report(`${label}: p50 / p99 (ms)`, `${r.requestP50Ms.toFixed(0)} / ${r.requestP99Ms.toFixed(0)}`);
      report(`${label}: errors`, String(r.requestErrors), "goal 0");
      report(`${label}: serve RSS start / after 10% / end (MB)`, `${r.rssStartMb.toFixed(0)} / ${r.rssEarlyMb.toFixed(0)} / ${r.rssEndMb.toFixed(0)}`);
      report(`${label}: serve RSS end over start`, (r.rssEndMb / r.rssStartMb).toFixed(3));
      report(`${label}: serve RSS end over after 10% (bounded caches full)`, (r.rssEndMb / r.rssEarlyMb).toFixed(3), "goal ≤ 1.10 (flat)");
    });
  } finally {
    await engine.dispose();
  }

  await section("soft-token addon over node-llama-cpp", async () => {
    const r = await benchSoftToken({ threads: THREADS });
    report("soft-token addon tokens/s / node-llama-cpp tokens/s", `${r.addonTokensPerSecond.toFixed(0)} / ${r.nodeLlamaCppTokensPerSecond.toFixed(0)}`);
    report("soft-token addon over node-llama-cpp", r.ratio.toFixed(3), "goal ≥ 0.97");
    report("splice 32 soft tokens (ms)", r.spliceMsFor32Tokens.toFixed(1));
  });

  await section("multimodal fixture VLM (mtmd): daemon over direct addon call", async () => {
    const r = await benchMultimodal({ threads: THREADS });
    report("multimodal: image encode, direct (ms)", r.encodeMs.toFixed(1));
    report("multimodal: prompt with the image, daemon / direct (ms)", `${r.daemonPromptMs.toFixed(1)} / ${r.directPromptMs.toFixed(1)}`);
    report("multimodal: tokens/s daemon / direct", `${r.daemonTokensPerSecond.toFixed(0)} / ${r.directTokensPerSecond.toFixed(0)} (${r.tokens} tokens)`);
    report("multimodal: daemon tokens/s over direct addon call", (r.daemonTokensPerSecond / r.directTokensPerSecond).toFixed(3), "goal ≥ 0.90");
  });

  await section("viewer window/level in Chromium", async () => {
    const benchPath = fileURLToPath(new URL("../../../client/out/bench/window-level-bench.js", import.meta.url));
    if (!existsSync("/usr/bin/chromium")) return report("viewer window/level", "skipped: /usr/bin/chromium not installed");
    const { benchWindowLevel } = createRequire(import.meta.url)(benchPath) as { benchWindowLevel(): Promise<{ fps: number }> };
    const r = await benchWindowLevel();
    report("viewer window/level 2048×2048 16-bit (frames/s)", r.fps.toFixed(1), "goal ≥ 30");
  });

  await section("xraygpt-mini", async () => {
    if (!existsSync(join(BUNDLED_MODELS_DIR, "xraygpt-mini", "model.json"))) return report("xraygpt-mini", "skipped: not installed");
    const mini = new XrayEngine({ threads: Number(process.env.XRAYGPT_THREADS ?? 1) });
    try {
      // The samples in ../shared/data (normal and abnormal findings, so short and long reports).
      const samplesDir = fileURLToPath(new URL("../../../../shared/data/samples/", import.meta.url));
      const imgs = existsSync(samplesDir) ? readdirSync(samplesDir).filter((f) => f.endsWith(".png")).map((f) => join(samplesDir, f)) : [image];
      await mini.summarize({ image: imgs[0]! });
      const totals: number[] = [];
      const rates: number[] = [];
      const vision: number[] = [];
      const tokens: number[] = [];
      const sampled: number[] = [];
      let candidates = 1;
      for (let round = 0; round < 3; round++)
        for (const img of imgs) {
          const r = await mini.summarize({ image: img });
          totals.push(r.timings.totalMs);
          rates.push(r.timings.tokensPerSecond);
          vision.push(r.timings.visionMs);
          tokens.push(r.timings.tokens);
          sampled.push((r.timings.tokensPerSecond * r.timings.generateMs) / 1000);
          candidates = r.timings.candidates;
        }
      report(
        `xraygpt-mini full summary over ${imgs.length} images, median / max ms (answers ${median(tokens).toFixed(0)} tokens median, max ${Math.max(...tokens)}; consensus of ${candidates}: ${median(sampled).toFixed(0)} tokens generated median)`,
        `${median(totals).toFixed(0)} / ${Math.max(...totals).toFixed(0)}`,
        "goal ≤ 300",
      );
      report("xraygpt-mini tokens/s (every candidate's tokens)", median(rates).toFixed(0));
      report("xraygpt-mini vision stage (ms/image)", median(vision).toFixed(2));
    } finally {
      await mini.dispose();
    }
  });

  await rm(dir, { recursive: true, force: true });
  console.log(`\n${rows.filter((r) => r.value.startsWith("failed")).length} section(s) failed.`);
}

await main();
process.exit(0);

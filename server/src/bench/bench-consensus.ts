/**
 * Benchmarks of consensus decoding (issue 17), `npm run bench -- consensus`: the batched addon
 * path against node-llama-cpp's one-after-another candidates (XRAYGPT_TEXT_ENGINE selects the
 * engine a model process loads), against the addon's raw batched decode, and against llama.cpp's
 * own llama-server on the same GGUF. Rounds are interleaved so every side sees the same machine.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SummarizeResult } from "@xraygpt/protocol";
import { XrayEngine } from "../engine/engine.js";
import { benchAnnotate, type AnnotateBenchResult } from "../annotate/bench.js";
import type { WithoutJob } from "../engine/types.js";
import { BUNDLED_MODELS_DIR, DEFAULT_MODEL_ID } from "../models/registry.js";
import { loadManifest, type LoadedManifest } from "../models/manifest.js";
import { BatchedTextGenerator } from "../host/batched-generator.js";
import { candidateSettings } from "../host/candidates.js";
import { ModelProcess, rssBytes } from "../host/model-process.js";
import type { TextEngine } from "../host/messages.js";
import { llamaServerMissing, startLlamaServer } from "../testing/llama-server.js";

export type Report = (name: string, value: string, goal?: string) => void;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const generationMs = (r: WithoutJob<SummarizeResult>) => r.timings.promptMs + r.timings.generateMs;

/** An engine whose model processes load with `textEngine` (the variable is read at each load). */
async function engineOn(textEngine: TextEngine, threads: number): Promise<XrayEngine> {
  const before = process.env.XRAYGPT_TEXT_ENGINE;
  process.env.XRAYGPT_TEXT_ENGINE = textEngine;
  // Replicas as annotate has them (the single-image figures use one of them).
  const engine = new XrayEngine({ threads, device: "cpu", replicas: "auto" });
  try {
    await engine.loadModel(DEFAULT_MODEL_ID);
  } finally {
    if (before === undefined) delete process.env.XRAYGPT_TEXT_ENGINE;
    else process.env.XRAYGPT_TEXT_ENGINE = before;
  }
  return engine;
}

function samples(): string[] {
  const dir = fileURLToPath(new URL("../../../../shared/data/samples/", import.meta.url));
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".png")).map((f) => join(dir, f)) : [];
}

async function mini(): Promise<LoadedManifest | undefined> {
  const path = join(BUNDLED_MODELS_DIR, DEFAULT_MODEL_ID, "model.json");
  return existsSync(path) ? loadManifest(path) : undefined;
}

/** Its summary prompt for one image (the findings line the vision model gives). */
function summaryPrompt(m: LoadedManifest, r: WithoutJob<SummarizeResult>): string {
  return m.manifest.prompt.template.replace("{findings}", r.findings.conditioningText ?? "").replace("{prompt}", r.prompt);
}

export interface ConsensusFigures {
  /** The daemon's consensus tokens/s (every candidate's tokens), addon engine. */
  daemonConsensusTokensPerSecond: number;
  /** One 64-candidate generation (prompt + candidates), ms, addon engine. */
  consensusMs: number;
  prompt: string;
}

/**
 * xraygpt-mini on the samples: consensus of N over one greedy generation and the full summary,
 * addon (after) and node-llama-cpp (before), interleaved per image.
 */
export async function benchConsensusSummaries(report: Report, threads: number): Promise<ConsensusFigures | undefined> {
  const m = await mini();
  const imgs = samples();
  if (!m || imgs.length === 0) return void report("consensus (xraygpt-mini)", "skipped: xraygpt-mini or ../shared/data/samples missing");
  const n = m.manifest.generation.candidates ?? 1;
  const engines = { addon: await engineOn("addon", threads), "node-llama-cpp": await engineOn("node-llama-cpp", threads) };
  const figures = { addon: { greedy: [] as number[], consensus: [] as number[], total: [] as number[], rate: [] as number[] }, "node-llama-cpp": { greedy: [] as number[], consensus: [] as number[], total: [] as number[], rate: [] as number[] } };
  let prompt = "";
  // The addon's consensus with every candidate finishing (no quorum), for the quorum's effect.
  const quorum = m.manifest.generation.candidateQuorum ?? 1;
  const allFinish: number[] = [];
  const annotate: Partial<Record<keyof typeof engines, AnnotateBenchResult>> = {};
  try {
    for (const e of Object.values(engines)) await e.summarize({ image: imgs[0]! }); // warm
    for (let round = 0; round < 3; round++)
      for (const img of imgs)
        for (const [name, e] of Object.entries(engines) as [keyof typeof engines, XrayEngine][]) {
          const f = figures[name];
          const greedy = await e.summarize({ image: img, generation: { candidates: 1 } });
          const full = await e.summarize({ image: img });
          if (name === "addon" && quorum < 1) allFinish.push(generationMs(await e.summarize({ image: img, generation: { candidateQuorum: 1 } })));
          f.greedy.push(generationMs(greedy));
          f.consensus.push(generationMs(full));
          f.total.push(full.timings.totalMs);
          f.rate.push(full.timings.tokensPerSecond);
          prompt ||= summaryPrompt(m, full);
        }
    // Annotate (the research batch) on both engines, same images: images/min, and batch over serial.
    const work = mkdtempSync(join(tmpdir(), "xraygpt-bench-annotate-"));
    try {
      for (const [name, e] of Object.entries(engines) as [keyof typeof engines, XrayEngine][]) annotate[name] = await benchAnnotate(e, imgs, work, { concurrency: 2 });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  } finally {
    await Promise.all(Object.values(engines).map((e) => e.dispose()));
  }
  const an = annotate.addon!;
  const bn = annotate["node-llama-cpp"]!;
  report(`annotate ${imgs.length} samples, xraygpt-mini, 2 in flight: images/min, batched addon / node-llama-cpp's sequential candidates (before)`, `${an.batchImagesPerMin.toFixed(0)} / ${bn.batchImagesPerMin.toFixed(0)} = ${(an.batchImagesPerMin / bn.batchImagesPerMin).toFixed(2)}×`, "goal ≥ 3×");
  report("annotate batch over serial, xraygpt-mini, addon", an.speedup.toFixed(3), "goal ≥ 1.5");
  const ratio = (f: (typeof figures)["addon"]) => median(f.consensus) / median(f.greedy);
  const a = figures.addon;
  const b = figures["node-llama-cpp"];
  report(`consensus of ${n} over one greedy generation: batched addon / node-llama-cpp (before)`, `${ratio(a).toFixed(2)}× / ${ratio(b).toFixed(2)}×`, "goal ≤ 3×");
  report(`consensus generation ms (${n} / 1 candidates): addon; node-llama-cpp`, `${median(a.consensus).toFixed(0)}/${median(a.greedy).toFixed(0)}; ${median(b.consensus).toFixed(0)}/${median(b.greedy).toFixed(0)}`);
  if (allFinish.length) report(`consensus generation ms, addon: stragglers cut once ${quorum} of the candidates finished / every candidate finishing`, `${median(a.consensus).toFixed(0)} / ${median(allFinish).toFixed(0)}`);
  report(`full summary, xraygpt-mini, median over ${imgs.length} samples (ms): addon / node-llama-cpp (before)`, `${median(a.total).toFixed(0)} / ${median(b.total).toFixed(0)}`, "goal ≤ 300");
  report(`consensus tokens/s (every candidate's): addon / node-llama-cpp`, `${median(a.rate).toFixed(0)} / ${median(b.rate).toFixed(0)}`);
  return { daemonConsensusTokensPerSecond: median(a.rate), consensusMs: median(a.consensus), prompt };
}

/** The addon's raw batched decode of N sequences (no ends, no IPC): the physical floor. */
export async function benchRawBatched(report: Report, threads: number, figures: ConsensusFigures | undefined): Promise<void> {
  const m = await mini();
  if (!m) return void report("raw batched decode", "skipped: xraygpt-mini missing");
  const n = m.manifest.generation.candidates ?? 64;
  const gen = await BatchedTextGenerator.load(m.llmPath!, { gpu: false, contextSize: m.manifest.llm!.contextSize, threads });
  const tokens = 32;
  const prompt = gen.tokenize(figures?.prompt || m.manifest.prompt.template.replace("{findings}", "View: frontal.").replace("{prompt}", m.manifest.prompt.defaultPrompt));
  const rates: Record<number, number[]> = { 1: [], [n]: [] };
  try {
    for (let round = 0; round < 5; round++)
      for (const k of [1, n]) {
        const r = await gen.generate(prompt, { candidates: candidateSettings({ ...m.manifest.generation, candidates: k }), maxTokens: tokens, ignoreEos: true });
        rates[k]!.push((1000 * k * tokens) / r.generateMs);
      }
  } finally {
    await gen.dispose();
  }
  const raw = median(rates[n]!);
  report(`addon raw batched decode, xraygpt-mini: ${n} sequences / 1 (tokens/s)`, `${raw.toFixed(0)} / ${median(rates[1]!).toFixed(0)}`);
  if (figures) report(`daemon consensus tokens/s over the raw batched decode of ${n}`, (figures.daemonConsensusTokensPerSecond / raw).toFixed(3), "(candidates end at different lengths: the batch shrinks)");
}

interface Completion {
  timings: { predicted_n: number };
  /** Wall-clock ms of the request (llama-server's own predicted_per_second read up to 5× the wall-clock rate here). */
  wallMs: number;
}

async function complete(origin: string, body: Record<string, unknown>): Promise<Completion> {
  const t = performance.now();
  const res = await fetch(`${origin}/completion`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ cache_prompt: false, ...body }) });
  if (!res.ok) throw new Error(`llama-server answered ${res.status}`);
  const c = (await res.json()) as Omit<Completion, "wallMs">;
  return { ...c, wallMs: performance.now() - t };
}

/**
 * Against llama-server on the same GGUF (xraygpt-mini, 1 thread): single-sequence greedy tokens/s
 * over 128 tokens (no stop strings; the daemon's model process, through its IPC), and the
 * 64-candidate consensus against 64 parallel requests to `llama-server --parallel 64`.
 */
export async function benchLlamaServer(report: Report, threads: number, figures: ConsensusFigures | undefined): Promise<void> {
  if (llamaServerMissing) return void report("against llama-server", `skipped: ${llamaServerMissing}`);
  const m = await mini();
  if (!m || !figures) return void report("against llama-server", "skipped: needs xraygpt-mini and the consensus section");
  const single = await startLlamaServer(m.llmPath!, ["-c", String(m.manifest.llm!.contextSize), "-t", String(threads), "-np", "1"]);
  const p = new ModelProcess({ ggufPath: m.llmPath!, contextSize: m.manifest.llm!.contextSize, device: "cpu", threads, label: m.manifest.id });
  try {
    const daemon: number[] = [];
    const peer: number[] = [];
    const greedy = { ...m.manifest.generation, candidates: 1, maxTokens: 128 };
    // Wall-clock tokens/s of a whole request on both sides (prompt, generation, IPC or HTTP).
    for (let round = 0; round < 5; round++) {
      const t = performance.now();
      const r = await p.generate(figures.prompt, greedy, []);
      daemon.push((1000 * r.tokens) / (performance.now() - t));
      const c = await complete(single.origin, { prompt: figures.prompt, n_predict: r.tokens, temperature: 0, top_k: 1, ignore_eos: true });
      peer.push((1000 * c.timings.predicted_n) / c.wallMs);
    }
    report("single sequence, greedy, 128 tokens, xraygpt-mini, wall clock: daemon's model process / llama-server (tokens/s)", `${median(daemon).toFixed(0)} / ${median(peer).toFixed(0)}`);
    report("daemon single-sequence tokens/s over llama-server's", (median(daemon) / median(peer)).toFixed(3), "goal ≥ 1");
  } finally {
    p.stop();
    single.stop();
  }
  const n = m.manifest.generation.candidates ?? 64;
  const { contextSize } = m.manifest.llm!;
  const server = await startLlamaServer(m.llmPath!, ["-c", String(contextSize * n), "-t", String(threads), "-np", String(n)]);
  try {
    const { generation: g } = m.manifest;
    const times: number[] = [];
    let failed = 0;
    for (let round = 0; round < 3; round++) {
      const t = performance.now();
      const settled = await Promise.allSettled(
        candidateSettings(g).map((s) =>
          complete(server.origin, { prompt: figures.prompt, n_predict: g.maxTokens, temperature: s.temperature, top_k: s.topK, top_p: s.topP, min_p: 0, seed: s.seed, stop: m.manifest.prompt.stop }),
        ),
      );
      times.push(performance.now() - t);
      failed += settled.filter((x) => x.status === "rejected").length;
    }
    if (failed) report(`llama-server requests that failed (of ${3 * n})`, String(failed));
    report(`${n} candidates, xraygpt-mini: daemon consensus / ${n} parallel llama-server requests (ms)`, `${figures.consensusMs.toFixed(0)} / ${median(times).toFixed(0)}`);
    report(`llama-server --parallel ${n} time over the daemon's consensus time`, (median(times) / figures.consensusMs).toFixed(3), "goal ≥ 1");
  } finally {
    server.stop();
  }
}

/** Resident memory of the model process over many consensus generations (xraygpt-mini, addon). */
export async function benchConsensusRss(report: Report, threads: number, figures: ConsensusFigures | undefined): Promise<void> {
  const m = await mini();
  if (!m || !figures) return void report("RSS over consensus summaries", "skipped: needs xraygpt-mini and the consensus section");
  const count = Number(process.env.XRAYGPT_BENCH_SUMMARIES ?? 1000);
  const p = new ModelProcess({ ggufPath: m.llmPath!, contextSize: m.manifest.llm!.contextSize, device: "cpu", threads, label: m.manifest.id, textEngine: "addon" });
  try {
    await p.ensureLoaded();
    let early = 0;
    for (let i = 0; i < count; i++) {
      // Varying seeds, so every generation differs.
      await p.generate(figures.prompt, { ...m.manifest.generation, seed: i }, m.manifest.prompt.stop);
      if (i === Math.floor(count / 10)) early = rssBytes(p.pid!) ?? 0;
    }
    const end = rssBytes(p.pid!) ?? 0;
    report(`model process RSS after ${Math.floor(count / 10) + 1} / ${count} consensus summaries (MB)`, `${(early / 2 ** 20).toFixed(0)} / ${(end / 2 ** 20).toFixed(0)}`);
    report("RSS at the end over RSS after the first 10%", (end / early).toFixed(3), "goal ≤ 1.05");
  } finally {
    p.stop();
  }
}

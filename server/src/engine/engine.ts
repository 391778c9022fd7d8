/**
 * The engine: model registry + resident models + the pipeline
 * decode → preprocess → vision → condition → generate, with a fair queue per model.
 * Vision runs in this process (onnxruntime-node); the LLM runs in a model process per model.
 */
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import type {
  ChatParams,
  ChatResult,
  DecodeImageParams,
  DecodeImageResult,
  Device,
  Findings,
  FindingsParams,
  FindingsResult,
  Heatmap,
  GenerationSettings,
  ImageInfo,
  ModelInfo,
  ServerStatus,
  StopReason,
  SummarizeParams,
  SummarizeResult,
  Timings,
} from "@xraygpt/protocol";
import { PROTOCOL_VERSION } from "@xraygpt/protocol";
import { BUNDLED_MODELS_DIR, DEFAULT_MODEL_ID, scanModels, type RegistryEntry } from "../models/registry.js";
import type { LoadedManifest } from "../models/manifest.js";
import { redactedTags } from "../pipeline/decode/index.js";
import { AnalysePool } from "../pipeline/analyse-pool.js";
import { VisionModel } from "../pipeline/vision.js";
import { occlusionMaps } from "../pipeline/saliency.js";
import { expectedFindings, findingsLine, firstTurnPrompt, followUpText, renderTemplate } from "../pipeline/condition.js";
import { ModelProcess, type GenerationDone } from "../host/model-process.js";
import type { SamplingSettings, SoftPrompt, SoftTokens } from "../host/messages.js";
import { loadProjection, project, type Projection } from "../softtoken/projection.js";
import { splitTemplate } from "../softtoken/prompt-items.js";
import { AbortedError, JobQueue } from "./job-queue.js";
import { EngineError } from "./errors.js";
import type { Engine, EngineOptions, JobHooks, WithoutJob } from "./types.js";

/** The server package's version (server/package.json is the one place it is written). */
export const VERSION: string = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;

interface ResidentModel {
  entry: LoadedManifest;
  vision?: Promise<VisionModel>;
  visionDevice?: Device;
  /** soft-tokens: the manifest's projection matrix, when it has one. */
  projection?: Promise<Projection>;
  llm: ModelProcess;
  queue: JobQueue;
}

interface ChatSession {
  id: string;
  model: string;
  image: string;
  findings: Findings;
  /** Prompt text so far (ends with the last question's "###Doctor:" marker); soft-tokens: the text after the soft tokens. */
  prompt: string;
  /** soft-tokens: the image's soft tokens and the text before them (the same every turn: their KV cache is kept). */
  soft?: SoftImage;
  lastAnswer?: string;
  lastUsed: number;
}

interface Analysed {
  resident: ResidentModel;
  info: ImageInfo;
  findings: Findings;
  /** soft-tokens: the vision embeddings, projected into the LLM's embedding space. */
  soft?: SoftTokens;
  /** The preprocessed input (for saliency maps). */
  tensor?: Float32Array;
  decodeMs: number;
  visionMs: number;
}

type SoftImage = SoftTokens & { prefixText: string };

/**
 * A first turn's prompt: the whole text (findings-text), or the text after the soft tokens plus
 * the soft tokens with the text before them (soft-tokens; the template is split at <ImageHere>
 * before `{prompt}` is filled in, so the user's text cannot split it).
 */
function firstTurn(a: Analysed, prompt: string): { text: string; image?: SoftImage } {
  const { manifest } = a.resident.entry;
  if (!a.soft) return { text: firstTurnPrompt(manifest, a.findings, prompt) };
  const halves = splitTemplate(manifest.prompt.template, "{prompt}");
  const values = { findings: a.findings.conditioningText ?? "", prompt };
  return { text: renderTemplate(halves.suffixText, values), image: { ...a.soft, prefixText: renderTemplate(halves.prefixText, values) } };
}

function llmPrompt(text: string, image: SoftImage | undefined): string | SoftPrompt {
  return image ? { ...image, suffixText: text } : text;
}

const MAX_SESSIONS = 64;

function ms(since: number): number {
  return performance.now() - since;
}

export class XrayEngine implements Engine {
  private registry: Map<string, RegistryEntry> | undefined;
  private resident = new Map<string, ResidentModel>();
  private sessions = new Map<string, ChatSession>();
  private listeners = new Set<(s: ServerStatus) => void>();
  private health: { health: ServerStatus["health"]; message?: string } = { health: "ok" };
  private readonly dirs: string[];
  private readonly defaultModel: string;
  private readonly threads: number;
  /** Decode + preprocess off the event loop. */
  private readonly pool: AnalysePool;

  constructor(private readonly opts: EngineOptions = {}) {
    this.dirs = [BUNDLED_MODELS_DIR, ...(opts.modelsDirs ?? [])];
    this.defaultModel = opts.defaultModel ?? DEFAULT_MODEL_ID;
    this.threads = opts.threads ?? Math.max(1, Math.min(8, availableParallelism() - 1));
    this.pool = new AnalysePool(Math.max(1, Math.min(4, availableParallelism() - 1)));
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private async scan(): Promise<Map<string, RegistryEntry>> {
    this.registry ??= await scanModels(this.dirs);
    return this.registry;
  }

  private async entry(id: string | undefined): Promise<LoadedManifest> {
    const wanted = id ?? this.defaultModel;
    const registry = await this.scan();
    const e = registry.get(wanted);
    if (!e) {
      const known = [...registry.keys()];
      throw new EngineError(
        "ModelUnavailable",
        `Model "${wanted}" is not installed (looked in ${this.dirs.join(", ")}; ${known.length ? `available: ${known.join(", ")}` : "no models found"})`,
      );
    }
    if (!e.loaded) throw new EngineError("ModelUnavailable", `Model "${wanted}" cannot be used: ${e.problem}`, e.manifestPath);
    return e.loaded;
  }

  private async residentFor(id: string | undefined): Promise<ResidentModel> {
    const entry = await this.entry(id);
    const key = entry.manifest.id;
    let r = this.resident.get(key);
    if (!r) {
      r = {
        entry,
        llm: new ModelProcess({
          ggufPath: entry.llmPath,
          contextSize: entry.manifest.llm.contextSize,
          device: this.opts.device ?? "auto",
          threads: this.threads,
          label: key,
          mode: entry.manifest.conditioning.mode,
          log: (l) => this.log(l),
        }),
        queue: new JobQueue(this.opts.parallel ?? 1),
      };
      r.queue.onChange(() => this.emitStatus());
      this.resident.set(key, r);
    }
    return r;
  }

  private vision(r: ResidentModel): Promise<VisionModel> {
    r.vision ??= VisionModel.load(r.entry.visionPath, r.entry.manifest.vision, this.opts.device ?? "auto", this.threads).then(
      (v) => {
        r.visionDevice = v.device;
        this.log(`model ${r.entry.manifest.id}: vision on ${v.device}`);
        this.emitStatus();
        return v;
      },
      (e) => {
        r.vision = undefined;
        throw e;
      },
    );
    return r.vision;
  }

  /** soft-tokens: the manifest's projection [inDim, outDim], loaded once (outDim follows from the file size). */
  private projection(r: ResidentModel, inDim: number): Promise<Projection> {
    const path = resolve(r.entry.dir, r.entry.manifest.conditioning.projection!);
    r.projection ??= (async () => {
      const size = (await stat(path).catch(() => undefined))?.size ?? 0;
      const outDim = size / (4 * inDim);
      if (!Number.isInteger(outDim) || outDim < 1) throw new Error(`soft-token projection ${path} has ${size} bytes, not a float32 [${inDim}, n] matrix`);
      return loadProjection(path, inDim, outDim);
    })().catch((e: Error) => {
      r.projection = undefined;
      throw new EngineError("ModelUnavailable", `Model ${r.entry.manifest.id}: ${e.message}`, path);
    });
    return r.projection;
  }

  /** soft-tokens: the vision embeddings, through the projection when the manifest has one. */
  private async softTokens(r: ResidentModel, e: { data: Float32Array; tokens: number; dim: number } | undefined): Promise<SoftTokens> {
    if (!e) throw new EngineError("ModelUnavailable", `Model ${r.entry.manifest.id}: the vision model gave no embeddings`);
    if (!r.entry.manifest.conditioning.projection) return { embeddings: e.data, nTokens: e.tokens, dim: e.dim };
    const p = await this.projection(r, e.dim);
    return { embeddings: project(e.data, e.tokens, p), nTokens: e.tokens, dim: p.outDim };
  }

  /** decode → preprocess → vision → findings line (findings-text) or soft tokens (soft-tokens). */
  private async analyse(image: string, model: string | undefined, hooks: JobHooks = {}): Promise<Analysed> {
    const resident = await this.residentFor(model);
    hooks.onProgress?.({ stage: "decode" });
    const { manifest } = resident.entry;
    const [{ info, tensor, decodeMs }, vision] = await Promise.all([this.pool.run(image, manifest.vision.input, this.opts.allowedRoots), this.vision(resident)]);
    hooks.onProgress?.({ stage: "vision" });
    const t = performance.now();
    const out = await vision.run(tensor);
    const soft = manifest.conditioning.mode === "soft-tokens" ? await this.softTokens(resident, out.embeddings) : undefined;
    const visionMs = ms(t);
    const findings: Findings = { labels: out.labels, ...(out.view ? { view: out.view } : {}) };
    // A soft-token model's labels (when it has a labels output) also fill a {findings} placeholder.
    if (!soft || out.labels.length) findings.conditioningText = findingsLine(out.labels, out.view, manifest.conditioning);
    hooks.onProgress?.({ stage: "vision", findings });
    return { resident, info, findings, ...(soft ? { soft } : {}), tensor, decodeMs, visionMs };
  }

  private settings(entry: LoadedManifest, g: GenerationSettings | undefined): Required<SamplingSettings> {
    const d = entry.manifest.generation;
    const s = { ...d, ...Object.fromEntries(Object.entries(g ?? {}).filter(([, v]) => v !== undefined)) } as SamplingSettings;
    if (!Number.isInteger(s.maxTokens) || s.maxTokens < 1 || s.maxTokens > 8192) throw new EngineError("InvalidParams", `maxTokens must be an integer from 1 to 8192 (got ${s.maxTokens})`);
    if (!(s.temperature >= 0 && s.temperature <= 5)) throw new EngineError("InvalidParams", `temperature must be from 0 to 5 (got ${s.temperature})`);
    const n = s.candidates ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new EngineError("InvalidParams", `candidates must be an integer from 1 to 64 (got ${n})`);
    if (s.candidateTemperature !== undefined && !(s.candidateTemperature >= 0 && s.candidateTemperature <= 5)) throw new EngineError("InvalidParams", `candidateTemperature must be from 0 to 5 (got ${s.candidateTemperature})`);
    if (n > 1 && entry.manifest.conditioning.mode === "soft-tokens") throw new EngineError("InvalidParams", `model ${entry.manifest.id}: consensus decoding (candidates > 1) is available for findings-text models only`);
    return { ...s, candidates: n, candidateTemperature: s.candidateTemperature ?? 1 };
  }

  /** Queue a generation on the model; a job cancelled while queued resolves as cancelled. */
  private async generate(
    r: ResidentModel,
    prompt: string | SoftPrompt,
    settings: SamplingSettings,
    hooks: JobHooks,
    owner: string,
    findings: Findings,
    kind: "summary" | "answer",
  ): Promise<{ done: GenerationDone | undefined; queuedMs: number }> {
    // Consensus decoding checks its candidates against what the findings line says; a summary
    // should state every given positive, an answer to a question need not.
    const expected =
      typeof prompt === "string" && findings.conditioningText ? { ...expectedFindings(findings.labels, r.entry.manifest.conditioning), complete: kind === "summary" } : undefined;
    const queuedAt = performance.now();
    let queuedMs = 0;
    try {
      const done = await r.queue.run(
        hooks.client ?? owner,
        async () => {
          queuedMs = ms(queuedAt);
          if (!r.llm.loaded) hooks.onProgress?.({ stage: "loading" });
          await r.llm.ensureLoaded();
          this.emitStatus();
          hooks.onProgress?.({ stage: "generate" });
          return r.llm.generate(prompt, settings, r.entry.manifest.prompt.stop, { signal: hooks.signal, onToken: hooks.onToken, ...(expected ? { expected } : {}) });
        },
        { signal: hooks.signal, onPosition: (position) => hooks.onProgress?.({ stage: "queued", position }) },
      );
      return { done, queuedMs };
    } catch (e) {
      if (e instanceof AbortedError) return { done: undefined, queuedMs: ms(queuedAt) };
      throw e;
    } finally {
      this.emitStatus();
    }
  }

  private timings(a: Analysed, done: GenerationDone | undefined, queuedMs: number, start: number): Timings {
    const generateMs = done?.generateMs ?? 0;
    return {
      decodeMs: a.decodeMs,
      visionMs: a.visionMs,
      promptMs: done?.promptMs ?? 0,
      generateMs,
      totalMs: ms(start),
      tokens: done?.tokens ?? 0,
      candidates: done?.candidates ?? 0,
      promptTokens: done?.promptTokens ?? 0,
      cachedPromptTokens: done?.reusedTokens ?? 0,
      tokensPerSecond: done && generateMs > 0 ? (1000 * done.sampledTokens) / generateMs : 0,
      queuedMs,
    };
  }

  private modelRef(entry: LoadedManifest) {
    return { id: entry.manifest.id, version: entry.manifest.version, manifestHash: entry.hash };
  }

  async summarize(params: WithoutJob<SummarizeParams>, hooks: JobHooks = {}): Promise<WithoutJob<SummarizeResult>> {
    const start = performance.now();
    const a = await this.analyse(params.image, params.model, hooks);
    const { entry } = a.resident;
    const settings = this.settings(entry, params.generation);
    const prompt = params.prompt ?? entry.manifest.prompt.defaultPrompt;
    const first = firstTurn(a, prompt);
    const { done, queuedMs } = await this.generate(a.resident, llmPrompt(first.text, first.image), settings, hooks, params.image, a.findings, "summary");
    hooks.onProgress?.({ stage: "done" });
    return {
      model: this.modelRef(entry),
      image: a.info,
      findings: a.findings,
      prompt,
      generation: settings,
      text: done?.text.trim() ?? "",
      stopReason: (done?.stopReason ?? "cancelled") as StopReason,
      timings: this.timings(a, done, queuedMs, start),
    };
  }

  async chat(params: WithoutJob<ChatParams>, hooks: JobHooks = {}): Promise<WithoutJob<ChatResult>> {
    const start = performance.now();
    if (!params.message?.trim()) throw new EngineError("InvalidParams", "chat message is empty");
    let session: ChatSession | undefined;
    let a: Analysed;
    if (params.sessionId) {
      session = this.sessions.get(params.sessionId);
      if (!session) throw new EngineError("UnknownSession", `chat session ${params.sessionId} is unknown or expired; start a new one`);
      const resident = await this.residentFor(session.model);
      a = { resident, info: undefined as never, findings: session.findings, decodeMs: 0, visionMs: 0 };
      session.prompt += followUpText(resident.entry.manifest, session.lastAnswer ?? "", params.message.trim());
    } else {
      a = await this.analyse(params.image, params.model, hooks);
      const first = firstTurn(a, params.message.trim());
      session = {
        id: randomUUID(),
        model: a.resident.entry.manifest.id,
        image: params.image,
        findings: a.findings,
        prompt: first.text,
        ...(first.image ? { soft: first.image } : {}),
        lastUsed: Date.now(),
      };
      this.sessions.set(session.id, session);
      this.evictSessions();
    }
    session.lastUsed = Date.now();
    const settings = this.settings(a.resident.entry, params.generation);
    const { done, queuedMs } = await this.generate(a.resident, llmPrompt(session.prompt, session.soft), settings, hooks, session.id, session.findings, "answer");
    session.lastAnswer = done?.text.trim() ?? "";
    hooks.onProgress?.({ stage: "done" });
    return {
      sessionId: session.id,
      model: this.modelRef(a.resident.entry),
      findings: session.findings,
      text: session.lastAnswer,
      stopReason: (done?.stopReason ?? "cancelled") as StopReason,
      timings: this.timings(a, done, queuedMs, start),
    };
  }

  private evictSessions(): void {
    while (this.sessions.size > MAX_SESSIONS) {
      const oldest = [...this.sessions.values()].reduce((x, y) => (y.lastUsed < x.lastUsed ? y : x));
      this.sessions.delete(oldest.id);
    }
  }

  async endChat(sessionId: string): Promise<boolean> {
    return this.sessions.delete(sessionId);
  }

  async findings(params: FindingsParams): Promise<FindingsResult> {
    const start = performance.now();
    const a = await this.analyse(params.image, params.model);
    const maps = params.heatmap || params.heatmapFinding ? await this.heatmaps(a, params.heatmapFinding) : undefined;
    return {
      model: this.modelRef(a.resident.entry),
      image: a.info,
      findings: a.findings,
      ...(maps ? { heatmaps: maps.heatmaps } : {}),
      timings: { decodeMs: a.decodeMs, visionMs: a.visionMs, ...(maps ? { heatmapMs: maps.ms } : {}), totalMs: ms(start) },
    };
  }

  /** Occlusion saliency maps of a findings classifier (see pipeline/saliency.ts). */
  private async heatmaps(a: Analysed, finding: string | undefined): Promise<{ heatmaps: Heatmap[]; ms: number }> {
    const { manifest } = a.resident.entry;
    const vision = await this.vision(a.resident);
    if (!vision.findingLabels.length) throw new EngineError("InvalidParams", `model ${manifest.id} has no findings classifier: no heatmap`);
    const t = performance.now();
    try {
      const heatmaps = await occlusionMaps(vision, a.tensor!, manifest.vision.input, finding);
      return { heatmaps, ms: ms(t) };
    } catch (e) {
      if (e instanceof RangeError) throw new EngineError("InvalidParams", `heatmap: ${e.message}`);
      throw e;
    }
  }

  async decode(params: DecodeImageParams): Promise<DecodeImageResult> {
    const img = await this.pool.view(params.image, params.maxSize, this.opts.allowedRoots);
    return {
      info: img.info,
      width: img.width,
      height: img.height,
      pixels: Buffer.from(img.pixels.buffer, img.pixels.byteOffset, img.pixels.byteLength).toString("base64"),
      window: img.window,
      tags: redactedTags(img.tags, params.includePatientTags ?? false),
    };
  }

  async listModels(): Promise<ModelInfo[]> {
    this.registry = undefined;
    const registry = await this.scan();
    return [...registry.values()].map((e) => this.modelInfo(e));
  }

  private modelInfo(e: RegistryEntry): ModelInfo {
    const m = e.loaded?.manifest;
    return {
      id: e.id,
      name: m?.name ?? e.id,
      version: m?.version ?? "",
      description: m?.description,
      license: m?.license ?? "",
      conditioning: m?.conditioning.mode ?? "findings-text",
      manifestPath: e.manifestPath,
      manifestHash: e.loaded?.hash ?? "",
      available: !!e.loaded,
      problem: e.problem,
      loaded: !!this.resident.get(e.id)?.llm.loaded,
      default: e.id === this.defaultModel,
    };
  }

  async loadModel(id: string): Promise<ModelInfo> {
    const r = await this.residentFor(id);
    await Promise.all([this.vision(r), r.llm.ensureLoaded()]);
    this.emitStatus();
    return this.modelInfo((await this.scan()).get(id)!);
  }

  async unloadModel(id: string): Promise<ModelInfo> {
    const r = this.resident.get(id);
    if (r) {
      r.llm.stop();
      this.resident.delete(id);
      if (r.vision) await (await r.vision.catch(() => undefined))?.dispose();
    }
    this.emitStatus();
    const e = (await this.scan()).get(id);
    if (!e) throw new EngineError("ModelUnavailable", `Model "${id}" is not installed`);
    return this.modelInfo(e);
  }

  status(): ServerStatus {
    let running = 0;
    let queued = 0;
    let llm: ServerStatus["device"]["llm"] = "none";
    let detail: string | undefined;
    const loaded: string[] = [];
    for (const [id, r] of this.resident) {
      running += r.queue.size.running;
      queued += r.queue.size.queued;
      if (r.llm.info) {
        loaded.push(id);
        llm = r.llm.info.device;
        detail = r.llm.info.detail;
      }
    }
    return {
      version: VERSION,
      protocolVersion: PROTOCOL_VERSION,
      ...this.health,
      quiescent: running === 0 && queued === 0,
      defaultModel: this.defaultModel,
      loadedModels: loaded,
      device: { vision: this.visionDevice(), llm, ...(detail ? { detail } : {}) },
      queue: { running, queued },
      pid: process.pid,
    };
  }

  private visionDevice(): ServerStatus["device"]["vision"] {
    for (const r of this.resident.values()) if (r.visionDevice) return r.visionDevice;
    return "none";
  }

  onStatus(listener: (s: ServerStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emitStatus(): void {
    if (this.listeners.size === 0) return;
    const s = this.status();
    for (const l of this.listeners) l(s);
  }

  async dispose(): Promise<void> {
    for (const id of [...this.resident.keys()]) await this.unloadModel(id).catch(() => undefined);
    await this.pool.close();
    this.listeners.clear();
  }
}

/**
 * The engine: model registry + resident models + the pipeline
 * decode → preprocess → vision → condition → generate, with a fair queue per model.
 * Vision runs in this process (onnxruntime-node); the LLM runs in a model process per model.
 */
import { randomUUID } from "node:crypto";
import { statSync } from "node:fs";
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
import { findingsLine } from "../pipeline/condition.js";
import type { GenerationDone } from "../host/model-process.js";
import type { SamplingSettings } from "../host/messages.js";
import { CONSENSUS_DEFAULTS, scaledEvidence } from "../host/candidates.js";
import type { AnalysedImage, Backend } from "../backends/backend.js";
import { createBackend } from "../backends/index.js";
import { REMOTE_MAX_CONCURRENCY } from "../backends/endpoint-pool.js";
import { occlusionMaps } from "../pipeline/saliency.js";
import { textFindings } from "../pipeline/text-findings.js";
import { AbortedError, JobQueue } from "./job-queue.js";
import { EngineError } from "./errors.js";
import type { Engine, EngineOptions, JobHooks, WithoutJob } from "./types.js";

/** The server package's version (server/package.json is the one place it is written). */
export const VERSION: string = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;

interface ResidentModel {
  /** The registry id it is kept under ("bundled:<id>" for a bundled model shadowed by a same-id one). */
  key: string;
  entry: LoadedManifest;
  vision?: Promise<VisionModel>;
  visionDevice?: Device;
  backend: Backend;
  queue: JobQueue;
}

interface ChatSession {
  id: string;
  model: string;
  image: string;
  findings: Findings;
  /** The backend's prompt so far (it ends with the last question). */
  prompt: unknown;
  lastAnswer?: string;
  lastUsed: number;
}

interface Analysed {
  resident: ResidentModel;
  info: ImageInfo;
  findings: Findings;
  image: AnalysedImage;
  /** The preprocessed input (for saliency maps). */
  tensor?: Float32Array;
  decodeMs: number;
  visionMs: number;
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
  readonly threads: number;
  /** Decode + preprocess off the event loop. */
  private readonly pool: AnalysePool;

  constructor(private readonly opts: EngineOptions = {}) {
    this.dirs = [BUNDLED_MODELS_DIR, ...(opts.modelsDirs ?? [])];
    this.defaultModel = opts.defaultModel ?? DEFAULT_MODEL_ID;
    this.threads = opts.threads ?? Math.max(1, Math.min(8, availableParallelism() - 1));
    this.pool = new AnalysePool(Math.max(1, Math.min(4, availableParallelism() - 1)));
  }

  get allowedRoots(): readonly string[] | undefined {
    return this.opts.allowedRoots;
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
    const key = id ?? this.defaultModel; // the registry id: a bundled model shadowed by a same-id one is "bundled:<id>"
    let r = this.resident.get(key);
    if (!r) {
      const backend = createBackend(entry, { device: this.opts.device ?? "auto", threads: this.threads, replicas: this.replicasFor(entry), log: (l) => this.log(l), onHealth: () => this.emitStatus() });
      r = { key, entry, backend, queue: new JobQueue(backend.parallel ?? this.opts.parallel ?? 1) };
      r.queue.onChange(() => this.emitStatus());
      this.resident.set(key, r);
    }
    return r;
  }

  /** Model processes for the model: EngineOptions.replicas, "auto" resolved from the machine and the model's size. */
  replicasFor(entry: LoadedManifest): number {
    const want = this.opts.replicas ?? 1;
    if (want !== "auto") return Math.max(1, Math.floor(want));
    if (entry.manifest.conditioning.mode !== "findings-text" || !entry.llmPath) return 1;
    // Once per manifest load (every model listing asks), not a stat each time.
    let n = this.autoReplicas.get(entry);
    if (n === undefined) {
      let bytes = Infinity;
      try {
        bytes = statSync(entry.llmPath).size;
      } catch {
        // unreadable: the load will say why
      }
      n = bytes <= 2 ** 30 ? Math.max(1, Math.min(4, Math.floor(availableParallelism() / this.threads))) : 1;
      this.autoReplicas.set(entry, n);
    }
    return n;
  }

  private readonly autoReplicas = new WeakMap<LoadedManifest, number>();

  /** The model's vision ONNX (absent for a multimodal model without a classifier). */
  private vision(r: ResidentModel): Promise<VisionModel> | undefined {
    const spec = r.entry.manifest.vision;
    if (!spec || !r.entry.visionPath) return undefined;
    r.vision ??= VisionModel.load(r.entry.visionPath, spec, this.opts.device ?? "auto", this.threads).then(
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

  /**
   * decode → preprocess → vision → findings (and the findings line), then the backend's own
   * preparation. A model without a vision model (multimodal, no classifier) gets no labels here:
   * its findings are read from the text it generates (textFindings).
   */
  private async analyse(image: string, model: string | undefined, hooks: JobHooks = {}): Promise<Analysed> {
    const resident = await this.residentFor(model);
    hooks.onProgress?.({ stage: "decode" });
    const { manifest } = resident.entry;
    const [{ info, tensor, png, decodeMs }, vision] = await Promise.all([
      this.pool.run(image, manifest.vision?.input, this.opts.allowedRoots, resident.backend.imageSize),
      this.vision(resident),
    ]);
    hooks.onProgress?.({ stage: "vision" });
    const t = performance.now();
    const out = vision && tensor ? await vision.run(tensor) : { labels: [], view: undefined, embeddings: undefined };
    const findings: Findings = { labels: out.labels, ...(out.view ? { view: out.view } : {}), ...(vision ? {} : { source: "text" as const }) };
    // The findings line, whenever the vision model assessed findings (it fills `{findings}`).
    if (out.labels.length) findings.conditioningText = findingsLine(out.labels, out.view, manifest.conditioning);
    const prepared = await resident.backend.prepare({ findings, ...(out.embeddings ? { embeddings: out.embeddings } : {}), ...(png ? { png } : {}) });
    const visionMs = ms(t);
    hooks.onProgress?.({ stage: "vision", findings });
    return { resident, info, findings, image: prepared, tensor, decodeMs, visionMs };
  }

  private settings(r: ResidentModel, g: GenerationSettings | undefined): Required<SamplingSettings> {
    const d = r.entry.manifest.generation;
    const given = Object.fromEntries(Object.entries(g ?? {}).filter(([, v]) => v !== undefined)) as Partial<SamplingSettings>;
    const s = { ...d, ...given, ...(given.candidates !== undefined && given.evidenceCandidates === undefined ? { evidenceCandidates: scaledEvidence(d, given.candidates) } : {}) } as SamplingSettings;
    if (!Number.isInteger(s.maxTokens) || s.maxTokens < 1 || s.maxTokens > 8192) throw new EngineError("InvalidParams", `maxTokens must be an integer from 1 to 8192 (got ${s.maxTokens})`);
    if (!(s.temperature >= 0 && s.temperature <= 5)) throw new EngineError("InvalidParams", `temperature must be from 0 to 5 (got ${s.temperature})`);
    const n = s.candidates ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new EngineError("InvalidParams", `candidates must be an integer from 1 to 64 (got ${n})`);
    if (s.candidateTemperature !== undefined && !(s.candidateTemperature >= 0 && s.candidateTemperature <= 5)) throw new EngineError("InvalidParams", `candidateTemperature must be from 0 to 5 (got ${s.candidateTemperature})`);
    const e = s.evidenceCandidates ?? 0;
    if (!Number.isInteger(e) || e < 0 || (e > 0 && e >= n)) throw new EngineError("InvalidParams", `evidenceCandidates must be an integer from 0 to candidates - 1 (got ${e} of ${n} candidates)`);
    if (s.evidenceTemperature !== undefined && !(s.evidenceTemperature >= 0 && s.evidenceTemperature <= 5)) throw new EngineError("InvalidParams", `evidenceTemperature must be from 0 to 5 (got ${s.evidenceTemperature})`);
    if (s.candidateQuorum !== undefined && !(s.candidateQuorum > 0 && s.candidateQuorum <= 1)) throw new EngineError("InvalidParams", `candidateQuorum must be above 0 and at most 1 (got ${s.candidateQuorum})`);
    const settings = { ...CONSENSUS_DEFAULTS, ...s, candidates: n, evidenceCandidates: e };
    r.backend.checkSettings(settings);
    return settings;
  }

  /** Queue a generation on the model; a job cancelled while queued resolves as cancelled. */
  private async generate(
    r: ResidentModel,
    prompt: unknown,
    settings: SamplingSettings,
    hooks: JobHooks,
    owner: string,
    purpose: "summary" | "answer",
  ): Promise<{ done: GenerationDone | undefined; queuedMs: number }> {
    const queuedAt = performance.now();
    let queuedMs = 0;
    try {
      const done = await r.queue.run(
        hooks.client ?? owner,
        async () => {
          queuedMs = ms(queuedAt);
          if (!r.backend.info) hooks.onProgress?.({ stage: "loading" });
          await r.backend.load();
          this.emitStatus();
          hooks.onProgress?.({ stage: "generate" });
          return r.backend.generate(prompt, settings, {
            signal: hooks.signal,
            onToken: hooks.onToken,
            onCandidates: (done, total) => hooks.onProgress?.({ stage: "generate", candidates: { done, total } }),
            purpose,
          });
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
    const settings = this.settings(a.resident, params.generation);
    const prompt = params.prompt ?? entry.manifest.prompt.defaultPrompt;
    const { done, queuedMs } = await this.generate(a.resident, a.resident.backend.firstTurn(a.image, prompt), settings, hooks, params.image, "summary");
    hooks.onProgress?.({ stage: "done" });
    const text = done?.text.trim() ?? "";
    return {
      model: this.modelRef(entry),
      image: a.info,
      findings: a.findings.source === "text" ? textFindings(text) : a.findings,
      prompt,
      generation: settings,
      text,
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
      a = { resident, info: undefined as never, findings: session.findings, image: { findings: session.findings }, decodeMs: 0, visionMs: 0 };
      session.prompt = resident.backend.nextTurn(session.prompt, session.lastAnswer ?? "", params.message.trim());
    } else {
      a = await this.analyse(params.image, params.model, hooks);
      const { backend } = a.resident;
      const history = params.history ?? [];
      const questions = [...history.map((t) => t.message.trim()), params.message.trim()];
      let prompt = backend.firstTurn(a.image, questions[0]!);
      history.forEach((t, i) => (prompt = backend.nextTurn(prompt, t.answer.trim(), questions[i + 1]!)));
      session = { id: randomUUID(), model: a.resident.key, image: params.image, findings: a.findings, prompt, lastUsed: Date.now() };
      this.sessions.set(session.id, session);
      this.evictSessions();
    }
    session.lastUsed = Date.now();
    const settings = this.settings(a.resident, params.generation);
    const { done, queuedMs } = await this.generate(a.resident, session.prompt, settings, hooks, session.id, "answer");
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
    const entry = await this.entry(params.model);
    if (!entry.manifest.vision) {
      // No classifier: the findings are what the model's own summary says.
      if (params.heatmap || params.heatmapFinding) throw new EngineError("InvalidParams", `model ${entry.manifest.id} has no findings classifier: no heatmap`);
      const s = await this.summarize({ image: params.image, ...(params.model ? { model: params.model } : {}) });
      return { model: s.model, image: s.image, findings: s.findings, timings: { decodeMs: s.timings.decodeMs, visionMs: s.timings.visionMs, totalMs: ms(start) } };
    }
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
    if (!vision || !vision.findingLabels.length) throw new EngineError("InvalidParams", `model ${manifest.id} has no findings classifier: no heatmap`);
    // The unoccluded probabilities are the analysis's own (no second run of the whole image).
    const byName = new Map(a.findings.labels.map((l) => [l.name, l.probability]));
    const whole = vision.findingLabels.every((n) => byName.has(n)) ? vision.findingLabels.map((n) => byName.get(n)!) : undefined;
    const t = performance.now();
    try {
      const heatmaps = await occlusionMaps(vision, a.tensor!, manifest.vision!.input, finding, whole);
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
      ...(img.modalityRange ? { range: img.modalityRange } : {}),
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
      ...(e.warning ? { warning: e.warning } : {}),
      loaded: !!this.resident.get(e.id)?.backend.info,
      default: e.id === this.defaultModel,
      ...(m?.backend ? { remote: { baseUrls: m.backend.baseUrls, maxConcurrency: m.backend.maxConcurrency ?? REMOTE_MAX_CONCURRENCY } } : {}),
      ...(e.loaded && !m?.backend ? { replicas: this.replicasFor(e.loaded) } : {}),
    };
  }

  async loadModel(id: string): Promise<ModelInfo> {
    const r = await this.residentFor(id);
    await Promise.all([this.vision(r), r.backend.load()]);
    this.emitStatus();
    return this.modelInfo((await this.scan()).get(id)!);
  }

  async unloadModel(id: string): Promise<ModelInfo> {
    const r = this.resident.get(id);
    if (r) {
      this.resident.delete(id);
      await r.backend.unload();
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
    const remote: NonNullable<ServerStatus["remote"]> = [];
    for (const [id, r] of this.resident) {
      running += r.queue.size.running;
      queued += r.queue.size.queued;
      const endpoints = r.backend.endpoints?.();
      if (endpoints) remote.push({ model: id, endpoints });
      const info = r.backend.info;
      if (info) {
        loaded.push(id);
        llm = info.device;
        detail = info.detail;
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
      ...(remote.length ? { remote } : {}),
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

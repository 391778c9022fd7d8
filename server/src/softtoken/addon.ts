/**
 * The soft-token addon (native/, package @xraygpt/llama-embed): typed access and loading. When it
 * cannot be used (not built, fails to load, no CPU backend) `loadSoftTokenAddon` says why in one
 * line instead of throwing, so the daemon keeps serving findings-text models.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";

export interface AddonDevice {
  name: string;
  description: string;
  type: "cpu" | "gpu" | "igpu" | "accel";
}

export interface AddonInitInfo {
  libraryDir: string;
  devices: AddonDevice[];
  supportsGpuOffload: boolean;
}

export interface NativeModel {
  nEmbd(): number;
  nVocab(): number;
  nLayer(): number;
  nCtxTrain(): number;
  bos(): number;
  eos(): number;
  isEog(token: number): boolean;
  tokenize(text: string, addSpecial?: boolean, parseSpecial?: boolean): Int32Array;
  /** Raw bytes: a piece can be part of a UTF-8 character. */
  tokenToPiece(token: number, special?: boolean): Uint8Array;
  detokenize(tokens: Int32Array, special?: boolean): string;
  description(): string;
  sizeBytes(): number;
  /** The GGUF's tokenizer.chat_template. */
  chatTemplate(): string | undefined;
  /** llama.cpp's llama_chat_apply_template (its built-in formats, recognised from the template text). */
  applyChatTemplate(messages: { role: string; content: string }[], addAssistant?: boolean, template?: string): string;
  free(): void;
}

export interface DecodeOptions {
  /** Position of the first input row. */
  pos: number;
  seq?: number;
  /** Which rows produce logits (default "last"). */
  logits?: "last" | "all" | "none";
}

export interface NativeContext {
  /** Token ids (Int32Array) or embeddings (Float32Array, n_embd per row). */
  decode(input: Int32Array | Float32Array, options: DecodeOptions): Promise<void>;
  decodeSync(input: Int32Array | Float32Array, options: DecodeOptions): void;
  /** Logits of output i of the last decode (-1: the last output). */
  logits(i?: number): Float32Array;
  /** Drops positions [p0, p1) of a sequence; -1 is an open end. */
  seqRemove(seq: number, p0?: number, p1?: number): boolean;
  seqPosMax(seq: number): number;
  clear(): void;
  nCtx(): number;
  nSeq(): number;
  free(): void;
  /**
   * Generates one or more candidates from a token prompt, the whole loop in C++ off the JS
   * thread: the prompt is evaluated once into sequence 0 (keeping its first `reuse` positions),
   * shared with sequences 1..N-1, and all unfinished candidates decode in one batch per step.
   */
  generate(prompt: Int32Array, options: NativeGenerateOptions): Promise<NativeGenerateResult>;
  /** Stops a running generate() at its next step (its unfinished candidates end "cancelled"). */
  cancel(): void;
}

export interface NativeGenerateOptions {
  /** One sampler per candidate (default one, with the sampler defaults). */
  candidates?: SamplerOptions[];
  /** Positions of sequence 0 kept from the previous call (a common prefix); < prompt length. */
  reuse?: number;
  /** Stop strings (per candidate; the text ends before the first one). */
  stop?: readonly string[];
  maxTokens?: number;
  /**
   * Finished candidates after which the others but candidate 0 are cut (stopReason "cut");
   * 1..candidates, default all of them (none is cut).
   */
  quorum?: number;
  /**
   * Candidates from this index on are a second group (evidence) with its own quorum,
   * evidenceQuorum (0..its size, default all); `quorum` then counts the first group only.
   */
  evidenceFrom?: number;
  evidenceQuorum?: number;
  /** Never stop at end of generation (benchmarks of the raw decode). */
  ignoreEos?: boolean;
  /** Candidate 0's new text bytes (may end inside a character), its token count, the candidates finished. */
  onProgress?(text0: Uint8Array, tokens0: number, done: number): void;
}

export interface NativeCandidate {
  /** UTF-8 bytes, cut before a stop string (may end inside a character at maxTokens). */
  text: Uint8Array;
  /** Generated tokens (without an end-of-generation token). */
  tokens: Int32Array;
  stopReason: "eos" | "stop" | "maxTokens" | "cancelled" | "cut";
}

export interface NativeGenerateResult {
  candidates: NativeCandidate[];
  promptMs: number;
  generateMs: number;
  /** Batched decode calls after the prompt. */
  steps: number;
}

export interface ContextOptions {
  nCtx?: number;
  nSeq?: number;
  nBatch?: number;
  nThreads?: number;
  nThreadsBatch?: number;
  /** One KV buffer for all sequences (a shared prompt is stored once); default false. */
  kvUnified?: boolean;
  /** Flash attention on / off (default: llama.cpp's choice). */
  flashAttention?: boolean;
}

export interface SamplerOptions {
  /** <= 0: greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  seed?: number;
  /** Words the text keeps to (token-level constraint, first in the chain); none: unconstrained. */
  lexicon?: NativeLexicon;
  /** With a lexicon: the text ends after this many tokens, so the last one must end its word. */
  lexiconMaxTokens?: number;
}

/**
 * A word list made for one model (new Lexicon(model, words)): a word is a run of ASCII letters,
 * case-insensitive; a sampler with it allows only tokens that keep every word a lexicon word
 * (or a prefix of one while it is being written), and ends of generation between words.
 */
export interface NativeLexicon {
  /** Distinct words it holds (entries that are not runs of letters are skipped). */
  size(): number;
}

export interface NativeSampler {
  /** Samples from output i of the context's last decode and records the token. */
  sample(context: NativeContext, i?: number): number;
  accept(tokens: number | Int32Array): void;
  reset(): void;
  free(): void;
}

export interface LlamaEmbedAddon {
  init(options: { gpuBackends?: string[]; verbose?: boolean }): AddonInitInfo;
  systemInfo(): string;
  loadModel(path: string, options: { gpuLayers?: number; useMmap?: boolean }): Promise<NativeModel>;
  Context: new (model: NativeModel, options?: ContextOptions) => NativeContext;
  Sampler: new (model: NativeModel, options?: SamplerOptions) => NativeSampler;
  Lexicon: new (model: NativeModel, words: readonly string[]) => NativeLexicon;
}

export type AddonLoadResult =
  | { ok: true; addon: LlamaEmbedAddon; info: AddonInitInfo; addonPath: string }
  | { ok: false; reason: string };

export interface AddonLoadOptions {
  /** The .node file (default: the built @xraygpt/llama-embed addon). */
  addonPath?: string;
  /** The build's one-line failure reason file (default: the package's). */
  reasonPath?: string;
  /** Load the GPU backends (CUDA, Vulkan) of the installed node-llama-cpp GPU packages (default true). */
  gpu?: boolean;
}

const require = createRequire(import.meta.url);
let cached: AddonLoadResult | undefined;

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split("\n")[0]!.trim();
}

function packagePaths(): { addonPath: string; reasonPath: string; gpuBackendFiles(): string[] } | string {
  try {
    return require("@xraygpt/llama-embed") as { addonPath: string; reasonPath: string; gpuBackendFiles(): string[] };
  } catch (e) {
    return `the soft-token addon package @xraygpt/llama-embed (native/) is not installed: ${firstLine(e)}`;
  }
}

/**
 * Loads and initialises the addon once per process (the default paths are cached, and the
 * first call decides whether GPU backends are loaded; explicit paths are not cached). Never throws.
 */
export function loadSoftTokenAddon(opts: AddonLoadOptions = {}): AddonLoadResult {
  const useDefault = !opts.addonPath && !opts.reasonPath;
  if (useDefault && cached) return cached;
  const result = tryLoad(opts);
  if (useDefault) cached = result;
  return result;
}

function tryLoad(opts: AddonLoadOptions): AddonLoadResult {
  // XRAYGPT_LLAMA_EMBED_ADDON: another build of the addon's module (llama_embed.node) to load.
  let addonPath = opts.addonPath ?? (process.env.XRAYGPT_LLAMA_EMBED_ADDON || undefined);
  let reasonPath = opts.reasonPath;
  let gpuBackends: string[] = [];
  if (!addonPath || !reasonPath || opts.gpu !== false) {
    const pkg = packagePaths();
    if (typeof pkg === "string") {
      if (!addonPath) return { ok: false, reason: pkg };
    } else {
      addonPath ??= pkg.addonPath;
      reasonPath ??= pkg.reasonPath;
      if (opts.gpu !== false) gpuBackends = safeGpuBackends(pkg.gpuBackendFiles);
    }
  }
  if (!existsSync(addonPath)) {
    const why = reasonPath && existsSync(reasonPath) ? readFileSync(reasonPath, "utf8").trim().split("\n")[0] : undefined;
    return {
      ok: false,
      reason: why
        ? `soft-token addon not built: ${why}`
        : `soft-token addon not built: ${addonPath} is missing (run \`npm rebuild @xraygpt/llama-embed\`)`,
    };
  }
  let addon: LlamaEmbedAddon;
  try {
    addon = require(addonPath) as LlamaEmbedAddon;
  } catch (e) {
    return { ok: false, reason: `soft-token addon ${addonPath} does not load: ${firstLine(e)}` };
  }
  try {
    const info = addon.init({ gpuBackends });
    return { ok: true, addon, info, addonPath };
  } catch (e) {
    return { ok: false, reason: `soft-token addon could not start llama.cpp: ${firstLine(e)}` };
  }
}

function safeGpuBackends(list: () => string[]): string[] {
  try {
    return list();
  } catch {
    return [];
  }
}

/** The device class a model offloaded to, for status reports. */
export function offloadDevice(info: AddonInitInfo, gpuLayers: number): "cpu" | "cuda" | "vulkan" | "metal" {
  if (gpuLayers === 0) return "cpu";
  const gpu = info.devices.find((d) => d.type === "gpu" || d.type === "igpu");
  if (!gpu) return "cpu";
  const name = gpu.name.toLowerCase();
  return name.startsWith("cuda") ? "cuda" : name.startsWith("vulkan") ? "vulkan" : name.startsWith("metal") ? "metal" : "cpu";
}

export interface AddonModel {
  addon: LlamaEmbedAddon;
  model: NativeModel;
  /** Layers offloaded (the model's layer count + 1 for "all"). */
  gpuLayers: number;
  device: "cpu" | "cuda" | "vulkan" | "metal";
}

/**
 * Loads a GGUF through the addon: all layers on the GPU when `gpuLayers` is "auto" (default) and a
 * GPU backend loaded, falling back to the CPU when that offload fails; throws the addon's reason
 * when it cannot be used.
 */
export async function loadAddonModel(ggufPath: string, opts: { gpu?: boolean; gpuLayers?: number | "auto" } = {}): Promise<AddonModel> {
  const loaded = loadSoftTokenAddon({ gpu: opts.gpu });
  if (!loaded.ok) throw new Error(loaded.reason);
  const hasGpu = loaded.info.devices.some((d) => d.type === "gpu" || d.type === "igpu");
  let gpuLayers = opts.gpuLayers === undefined || opts.gpuLayers === "auto" ? (hasGpu ? -1 : 0) : opts.gpuLayers;
  let model: NativeModel;
  try {
    model = await loaded.addon.loadModel(ggufPath, { gpuLayers });
  } catch (e) {
    if (gpuLayers === 0 || (opts.gpuLayers !== undefined && opts.gpuLayers !== "auto")) throw e;
    gpuLayers = 0; // "auto" offload that does not fit the GPU: run on the CPU instead
    model = await loaded.addon.loadModel(ggufPath, { gpuLayers });
  }
  const layers = gpuLayers < 0 ? model.nLayer() + 1 : Math.min(gpuLayers, model.nLayer() + 1);
  return { addon: loaded.addon, model, gpuLayers: layers, device: offloadDevice(loaded.info, layers) };
}

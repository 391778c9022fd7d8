/**
 * BatchedTextGenerator: text-prompt generation through the project's addon (native/), one or many
 * candidates at once. The prompt is evaluated once and its KV shared by every candidate's
 * sequence; each step decodes all unfinished candidates in one batch (Context.generate, a C++
 * loop off the JS thread). Sequence 0 keeps what it evaluated, so the next prompt that starts with
 * it (a chat turn) decodes only the new text. One generation at a time (calls queue).
 */
import { availableParallelism } from "node:os";
import type { StopReason } from "@xraygpt/protocol";
import type { SamplingSettings } from "./messages.js";
import { loadAddonModel, type LlamaEmbedAddon, type NativeContext, type NativeLexicon, type NativeModel, type SamplerOptions } from "../softtoken/addon.js";

export interface BatchedLoadOptions {
  gpu?: boolean;
  gpuLayers?: number | "auto";
  /** Positions one sequence may use (prompt + answer); capped at the model's training context. */
  contextSize?: number;
  threads?: number;
}

export interface BatchedGenerateParams {
  /** One sampler per candidate; candidate 0's text streams. */
  candidates: readonly SamplingSettings[];
  stop?: readonly string[];
  /** Tokens per candidate (at most what the context leaves after the prompt). */
  maxTokens: number;
  /** Finished candidates after which the rest but candidate 0 are cut (default: all finish). */
  quorum?: number;
  /** Candidates from this index on have their own quorum, evidenceQuorum (candidates.ts candidateQuorums). */
  evidenceFrom?: number;
  evidenceQuorum?: number;
  signal?: AbortSignal;
  /** Candidate 0's new text (whole characters), and its token count so far. */
  onText0?(text: string, tokens: number): void;
  /** Candidates finished so far. */
  onDone?(done: number, total: number): void;
  /** Benchmarks of the raw decode: never stop at end of generation. */
  ignoreEos?: boolean;
  /**
   * Words every candidate keeps to (case-insensitive runs of letters, as metrics/answer-checks.ts
   * counts words): tokens that would write another word are never sampled. The native trie is
   * built once per set (pass the same set each time, e.g. consensus.ts `allowedWords`).
   */
  lexicon?: ReadonlySet<string>;
}

export interface BatchedCandidate {
  text: string;
  tokens: number;
  /** "cut": a straggler stopped once the quorum had finished (its text is unfinished). */
  stopReason: StopReason | "cut";
}

export interface BatchedResult {
  candidates: BatchedCandidate[];
  promptTokens: number;
  reusedTokens: number;
  promptMs: number;
  generateMs: number;
}

/** Context cells per sequence are allocated in blocks of this many. */
const CELL_BLOCK = 256;

/** A candidate's sampler; with a lexicon, its last token (the maxTokens-th) also ends its word. */
function samplerOptions(s: SamplingSettings, lexicon: NativeLexicon | undefined, maxTokens: number): SamplerOptions {
  return { temperature: s.temperature, topK: s.topK, topP: s.topP, repeatPenalty: s.repeatPenalty, seed: s.seed, ...(lexicon ? { lexicon, lexiconMaxTokens: maxTokens } : {}) };
}

/** Text of UTF-8 bytes, without a character cut off at the end. */
function utf8(bytes: Uint8Array): string {
  return new TextDecoder("utf-8").decode(bytes).replace(/\uFFFD+$/, "");
}

export class BatchedTextGenerator {
  private context: NativeContext;
  /** Tokens whose KV sequence 0 holds. */
  private held: number[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  /** The native lexicon of each word set passed (trie and token pieces built once). */
  private lexicons = new WeakMap<ReadonlySet<string>, NativeLexicon>();

  private constructor(
    private readonly addon: LlamaEmbedAddon,
    private readonly model: NativeModel,
    /** Positions per sequence. */
    readonly contextSize: number,
    private readonly threads: number,
    readonly device: "cpu" | "cuda" | "vulkan" | "metal",
    readonly gpuLayers: number,
  ) {
    this.context = this.newContext(1);
  }

  /** Throws the addon's reason when it cannot be used. */
  static async load(ggufPath: string, opts: BatchedLoadOptions = {}): Promise<BatchedTextGenerator> {
    const { addon, model, gpuLayers, device } = await loadAddonModel(ggufPath, opts);
    const perSeq = Math.min(opts.contextSize ?? 2048, model.nCtxTrain() > 0 ? model.nCtxTrain() : Infinity);
    try {
      return new BatchedTextGenerator(addon, model, perSeq, opts.threads ?? Math.max(1, availableParallelism()), device, gpuLayers);
    } catch (e) {
      model.free();
      throw e;
    }
  }

  /** The prompt's tokens (BOS when the model wants one; special tokens are not parsed). */
  tokenize(prompt: string): Int32Array {
    return this.model.tokenize(prompt, true, false);
  }

  generate(prompt: Int32Array, params: BatchedGenerateParams): Promise<BatchedResult> {
    const run = this.queue.then(() => this.run(prompt, params));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    await this.queue;
    this.context.free();
    this.model.free();
  }

  /**
   * One KV stream of contextSize cells per sequence, with flash attention: each candidate attends
   * over its own cells only (the prompt's are copied to it). A unified buffer, where each would
   * attend over every candidate's cells (masked), measured about 2× slower per step with 64.
   */
  private newContext(nSeq: number): NativeContext {
    const perSeq = Math.ceil(this.contextSize / CELL_BLOCK) * CELL_BLOCK;
    return new this.addon.Context(this.model, { nCtx: perSeq * nSeq, nSeq, nThreads: this.threads, kvUnified: false, flashAttention: true });
  }

  private nativeLexicon(words: ReadonlySet<string>): NativeLexicon {
    let lex = this.lexicons.get(words);
    if (!lex) this.lexicons.set(words, (lex = new this.addon.Lexicon(this.model, [...words])));
    return lex;
  }

  /** A sequence for every candidate (the context grows once, on the first consensus). */
  private ensureCapacity(candidates: number): void {
    if (this.context.nSeq() >= candidates) return;
    const next = this.newContext(candidates);
    this.context.free();
    this.context = next;
    this.held = [];
  }

  private async run(prompt: Int32Array, params: BatchedGenerateParams): Promise<BatchedResult> {
    if (prompt.length === 0) throw new Error("the prompt is empty");
    if (prompt.length >= this.contextSize) throw new Error(`the prompt (${prompt.length} tokens) does not fit the context (${this.contextSize} tokens)`);
    const n = params.candidates.length;
    const maxTokens = Math.max(1, Math.min(params.maxTokens, this.contextSize - prompt.length));
    this.ensureCapacity(n);
    const ctx = this.context;
    // Prefix reuse only for a single sequence (chat turns): KV computed in another batch can
    // differ in the last bits, which sampled candidates would amplify; a consensus evaluates its
    // prompt afresh, so the same request always gives the same candidates.
    let reuse = 0;
    while (n === 1 && reuse < this.held.length && reuse < prompt.length - 1 && this.held[reuse] === prompt[reuse]) reuse++;
    const lexicon = params.lexicon ? this.nativeLexicon(params.lexicon) : undefined;
    const decoder = new TextDecoder("utf-8");
    const onAbort = () => ctx.cancel();
    let result;
    try {
      const running = ctx.generate(prompt, {
        candidates: params.candidates.map((c) => samplerOptions(c, lexicon, maxTokens)),
        reuse,
        stop: params.stop ?? [],
        maxTokens,
        ...(params.quorum !== undefined ? { quorum: params.quorum } : {}),
        ...(params.evidenceFrom !== undefined ? { evidenceFrom: params.evidenceFrom, evidenceQuorum: params.evidenceQuorum } : {}),
        ignoreEos: params.ignoreEos,
        onProgress: (bytes, tokens0, done) => {
          const text = bytes.length > 0 ? decoder.decode(bytes, { stream: true }) : "";
          if (text) params.onText0?.(text, tokens0);
          params.onDone?.(done, n);
        },
      });
      params.signal?.addEventListener("abort", onAbort, { once: true });
      if (params.signal?.aborted) ctx.cancel();
      result = await running;
    } finally {
      params.signal?.removeEventListener("abort", onAbort);
    }
    const kept = ctx.seqPosMax(0) + 1;
    const c0 = result.candidates[0]!;
    this.held = [...prompt, ...c0.tokens].slice(0, Math.max(0, kept));
    return {
      candidates: result.candidates.map((c) => ({ text: utf8(c.text), tokens: c.tokens.length, stopReason: c.stopReason })),
      promptTokens: prompt.length,
      reusedTokens: reuse,
      promptMs: result.promptMs,
      generateMs: result.generateMs,
    };
  }
}

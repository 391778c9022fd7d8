/**
 * SoftTokenGenerator: text generation from a prompt with soft tokens (image embeddings spliced
 * between text), through the llama-embed addon. One generation at a time per generator (calls
 * queue); streaming, stop strings, cancellation, and KV-cache re-use across calls: a sequence
 * keeps what it evaluated, so a chat turn whose prompt starts with the previous turn's (same
 * image embeddings, same earlier text) decodes only the new text.
 *
 * With a projector attached (`attachProjector`: an mmproj GGUF through llama.cpp's libmtmd),
 * `generateMultimodal` takes a prompt text with media markers and RGB images: mtmd tokenizes it
 * (the model's image delimiters included) and encodes and decodes each image into the KV cache,
 * the same way llama-mtmd-cli does; an image is named by a hash of its pixels, so a chat turn on
 * the same image re-uses its positions.
 */
import { availableParallelism } from "node:os";
import type { StopReason } from "@xraygpt/protocol";
import type { SamplingSettings } from "../host/messages.js";
import { scanStops } from "../host/stop-strings.js";
import { loadAddonModel, type LlamaEmbedAddon, type NativeContext, type NativeModel } from "./addon.js";
import { commonPrefix, decodeRuns, isImageSlot, promptItems, type PromptItem, type PromptPart } from "./prompt-items.js";
import { loadMtmdAddon, type MtmdContextOptions, type NativeMtmdContext, type RgbImage } from "../multimodal/mtmd-addon.js";

export interface SoftTokenLoadOptions {
  /** Layers offloaded to the GPU: a number, -1 / "auto" for all when a GPU backend loaded (default "auto"). */
  gpuLayers?: number | "auto";
  /** Context positions per sequence (default 2048, capped at the model's training context). */
  contextSize?: number;
  /** Sequences kept resident (default 1); each has its own KV cache of contextSize positions. */
  sequences?: number;
  threads?: number;
  /** Load GPU backends at all (default true). */
  gpu?: boolean;
}

export interface SoftTokenGenerateParams {
  /** Text before the soft tokens (BOS is prepended). */
  prefixText: string;
  /** nTokens × dim floats, row-major; dim must equal the LLM's embedding size. */
  embeddings: Float32Array;
  nTokens: number;
  dim: number;
  /** Text after the soft tokens (the instruction and the assistant cue). */
  suffixText: string;
  settings: SamplingSettings;
  stop?: readonly string[];
  signal?: AbortSignal;
  onToken?(text: string, index: number): void;
}

export interface SoftTokenResult {
  text: string;
  stopReason: StopReason;
  /** Generated tokens. */
  tokens: number;
  /** Their ids (without an EOS that ended the generation). */
  tokenIds: number[];
  promptTokens: number;
  /** Prompt positions whose KV cache was re-used from an earlier call. */
  reusedTokens: number;
  promptMs: number;
  generateMs: number;
}

interface SequenceState {
  items: PromptItem[];
  lastUsed: number;
}

export class SoftTokenGenerator {
  private addon?: LlamaEmbedAddon;
  private model?: NativeModel;
  private context?: NativeContext;
  private seqs: SequenceState[] = [];
  private perSeq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private useCounter = 0;
  private projector?: NativeMtmdContext;
  device: "cpu" | "cuda" | "vulkan" | "metal" = "cpu";
  gpuLayers = 0;

  async load(ggufPath: string, opts: SoftTokenLoadOptions = {}): Promise<void> {
    if (this.model) throw new Error("SoftTokenGenerator.load: a model is already loaded");
    const { addon, model, gpuLayers, device } = await loadAddonModel(ggufPath, opts);
    const sequences = Math.max(1, opts.sequences ?? 1);
    this.perSeq = Math.min(opts.contextSize ?? 2048, model.nCtxTrain() > 0 ? model.nCtxTrain() : Infinity);
    const threads = opts.threads ?? Math.max(1, availableParallelism());
    try {
      this.context = new addon.Context(model, { nCtx: this.perSeq * sequences, nSeq: sequences, nThreads: threads });
    } catch (e) {
      model.free();
      throw e;
    }
    this.addon = addon;
    this.model = model;
    this.seqs = Array.from({ length: sequences }, () => ({ items: [], lastUsed: 0 }));
    this.gpuLayers = gpuLayers;
    this.device = device;
  }

  get embeddingSize(): number {
    return this.loaded().model.nEmbd();
  }

  get contextSize(): number {
    return this.perSeq;
  }

  /** Generates after `prefixText`, the soft tokens and `suffixText`. */
  generate(params: SoftTokenGenerateParams): Promise<SoftTokenResult> {
    const { prefixText, embeddings, nTokens, dim, suffixText, ...rest } = params;
    return this.generateParts({ parts: [{ text: prefixText, bos: true }, { embeddings, nTokens, dim }, { text: suffixText }], ...rest });
  }

  /** The general form: any sequence of text and soft-token parts. */
  generateParts(params: Omit<SoftTokenGenerateParams, "prefixText" | "embeddings" | "nTokens" | "dim" | "suffixText"> & { parts: readonly PromptPart[] }): Promise<SoftTokenResult> {
    const run = this.queue.then(() => this.run(params));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Loads an mmproj GGUF for the loaded model (llama.cpp's libmtmd); throws with mtmd's reason, naming the file. */
  attachProjector(mmprojPath: string, opts: MtmdContextOptions = {}): NativeMtmdContext {
    const { model } = this.loaded();
    if (this.projector) throw new Error("SoftTokenGenerator.attachProjector: a projector is already attached");
    const mtmd = loadMtmdAddon();
    if (!mtmd.ok) throw new Error(mtmd.reason);
    this.projector = new mtmd.MtmdContext(model, mmprojPath, opts);
    return this.projector;
  }

  /** The attached projector's media marker (where an image goes in a prompt text). */
  get mediaMarker(): string {
    if (!this.projector) throw new Error("SoftTokenGenerator: no projector attached");
    return this.projector.marker;
  }

  /** The messages in the GGUF's own chat template (llama.cpp's llama_chat_apply_template), with the assistant cue. */
  applyChatTemplate(messages: { role: string; content: string }[]): string {
    return this.loaded().model.applyChatTemplate(messages, true);
  }

  /** A prompt text with one media marker (the projector's `marker`) per image. */
  generateMultimodal(params: Omit<SoftTokenGenerateParams, "prefixText" | "embeddings" | "nTokens" | "dim" | "suffixText"> & { text: string; images: RgbImage[] }): Promise<SoftTokenResult> {
    const { text, images, ...rest } = params;
    if (!this.projector) throw new Error("SoftTokenGenerator.generateMultimodal: no projector attached");
    const parts: PromptPart[] = this.projector.tokenize(text, images).map((c) => (c.type === "text" ? { tokens: c.tokens } : { image: { id: c.id, nPos: c.nPos, chunk: c.chunk } }));
    return this.generateParts({ parts, ...rest });
  }

  /** A chat bound to one image: each turn appends text; the image is decoded once. */
  startChat(opts: { prefixText: string; embeddings: Float32Array; nTokens: number; dim: number }): SoftTokenChat {
    return new SoftTokenChat(this, opts);
  }

  async dispose(): Promise<void> {
    await this.queue;
    this.projector?.free();
    this.projector = undefined;
    this.context?.free();
    this.model?.free();
    this.context = undefined;
    this.model = undefined;
  }

  private loaded(): { addon: LlamaEmbedAddon; model: NativeModel; context: NativeContext } {
    if (!this.addon || !this.model || !this.context) throw new Error("SoftTokenGenerator: no model loaded");
    return { addon: this.addon, model: this.model, context: this.context };
  }

  /** The sequence with the longest re-usable prefix, else the least recently used one. */
  private pickSequence(items: PromptItem[]): { seq: number; reuse: number } {
    let best = { seq: 0, reuse: -1, lastUsed: Infinity };
    this.seqs.forEach((s, seq) => {
      const reuse = commonPrefix(s.items, items);
      if (reuse > best.reuse || (reuse === best.reuse && s.lastUsed < best.lastUsed)) best = { seq, reuse, lastUsed: s.lastUsed };
    });
    // Keep at least one prompt position to evaluate: its logits start the generation; an image
    // is kept whole or decoded again whole.
    let reuse = Math.min(best.reuse, items.length - 1);
    while (reuse > 0 && isImageSlot(items[reuse]) && (items[reuse] as { k: number }).k > 0) reuse--;
    return { seq: best.seq, reuse };
  }

  private async run(params: Parameters<SoftTokenGenerator["generateParts"]>[0]): Promise<SoftTokenResult> {
    const { addon, model, context } = this.loaded();
    const t0 = performance.now();
    const items = promptItems(model, params.parts);
    if (items.length === 0) throw new Error("the prompt is empty");
    if (items.length >= this.perSeq) throw new Error(`the prompt (${items.length} positions) does not fit the context (${this.perSeq} positions)`);
    const picked = this.pickSequence(items);
    const { seq } = picked;
    this.seqs[seq]!.lastUsed = ++this.useCounter;
    // A partial removal can fail (e.g. recurrent models); then the whole sequence goes.
    const reuse = context.seqRemove(seq, picked.reuse, -1) ? picked.reuse : (context.seqRemove(seq, -1, -1), 0);
    return this.decodeAndGenerate(addon, model, context, seq, items, reuse, params, t0);
  }

  private async decodeAndGenerate(
    addon: LlamaEmbedAddon,
    model: NativeModel,
    context: NativeContext,
    seq: number,
    items: PromptItem[],
    reuse: number,
    params: Parameters<SoftTokenGenerator["generateParts"]>[0],
    t0: number,
  ): Promise<SoftTokenResult> {
    const state = this.seqs[seq]!;
    state.items = items.slice(0, reuse);
    let pos = reuse;
    const runs = decodeRuns(items.slice(reuse), model.nEmbd());
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r]!;
      if (run instanceof Int32Array || run instanceof Float32Array) {
        await context.decode(run, { pos, seq, logits: r === runs.length - 1 ? "last" : "none" });
        pos += run instanceof Int32Array ? run.length : run.length / model.nEmbd();
        continue;
      }
      if (!this.projector) throw new Error("the prompt has an image but no projector is attached");
      if (r === runs.length - 1) throw new Error("the prompt ends with an image: text must follow it");
      await this.projector.evalImage(context, run.chunk, { pos, seq });
      pos += run.nPos;
    }
    state.items = items.slice();
    const promptMs = performance.now() - t0;

    const { settings, stop = [], signal, onToken } = params;
    const sampler = new addon.Sampler(model, {
      temperature: settings.temperature,
      topK: settings.topK,
      topP: settings.topP,
      repeatPenalty: settings.repeatPenalty,
      seed: settings.seed,
    });
    const maxTokens = Math.min(settings.maxTokens, this.perSeq - items.length);
    const decoder = new TextDecoder("utf-8");
    let text = "";
    let emitted = 0;
    let generated = 0;
    const tokenIds: number[] = [];
    let stopReason: StopReason = "maxTokens";
    try {
      while (generated < maxTokens) {
        if (signal?.aborted) {
          stopReason = "cancelled";
          break;
        }
        const token = sampler.sample(context);
        if (model.isEog(token)) {
          stopReason = "eos";
          break;
        }
        generated++;
        tokenIds.push(token);
        text += decoder.decode(model.tokenToPiece(token), { stream: true });
        const scan = scanStops(text, stop);
        const end = scan.stopAt >= 0 ? scan.stopAt : scan.safeEnd;
        if (end > emitted) {
          onToken?.(text.slice(emitted, end), generated);
          emitted = end;
        }
        if (scan.stopAt >= 0) {
          text = text.slice(0, scan.stopAt);
          stopReason = "stop";
          break;
        }
        if (generated >= maxTokens) break;
        await context.decode(Int32Array.of(token), { pos, seq });
        state.items.push(token);
        pos++;
      }
    } finally {
      sampler.free();
    }
    if (stopReason !== "stop") {
      text += decoder.decode().replace(/\uFFFD+$/, ""); // drop a character cut off at the end
      if (text.length > emitted) onToken?.(text.slice(emitted), generated);
    }
    return {
      text,
      stopReason,
      tokens: generated,
      tokenIds,
      promptTokens: items.length,
      reusedTokens: reuse,
      promptMs,
      generateMs: performance.now() - t0 - promptMs,
    };
  }
}

/**
 * A chat over one image. Turn n's prompt is turn n-1's prompt + its answer + the new text, so
 * the generator re-uses the KV cache up to the new text (the image is never decoded again
 * while the chat holds its sequence).
 */
export class SoftTokenChat {
  private suffix = "";

  constructor(
    private readonly generator: SoftTokenGenerator,
    private readonly image: { prefixText: string; embeddings: Float32Array; nTokens: number; dim: number },
  ) {}

  /** `text` follows the previous answer (or the soft tokens, on the first turn). */
  async send(params: Omit<SoftTokenGenerateParams, "prefixText" | "embeddings" | "nTokens" | "dim" | "suffixText"> & { text: string }): Promise<SoftTokenResult> {
    const { text, ...rest } = params;
    const suffixText = this.suffix + text;
    const result = await this.generator.generate({ ...this.image, suffixText, ...rest });
    this.suffix = suffixText + result.text;
    return result;
  }
}

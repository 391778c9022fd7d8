/**
 * Generation backends: one way of turning an analysed image and a question into text per file.
 * The engine picks one from the manifest when a model becomes resident, then only queues, keeps
 * chat sessions and assembles results; it never asks which kind of model it has.
 *
 *   findings-text.ts  the findings line in a text prompt, node-llama-cpp in a model process
 *   soft-tokens.ts    the vision embeddings as soft tokens, the project's addon in a model process
 *   multimodal.ts     a GGUF + its vision projector (mmproj), libmtmd through the addon in a model process
 *   openai-remote.ts  an OpenAI-compatible server elsewhere (the image as a PNG data URL)
 *
 * A backend's prompt state `P` is its own: the engine keeps it in the chat session and hands it
 * back for the next turn (KV reuse is the backend's business).
 */
import type { Device, Findings, RemoteEndpointHealth } from "@xraygpt/protocol";
import type { LoadedManifest } from "../models/manifest.js";
import type { GenerationDone } from "../host/model-process.js";
import type { TokenFlags } from "../engine/tokens.js";
import type { SamplingSettings } from "../host/messages.js";

/** What the pipeline (decode → preprocess → vision) gives a backend for one image. */
export interface AnalysedImage {
  findings: Findings;
  /** The vision model's embeddings output [tokens, dim], when it has one. */
  embeddings?: { data: Float32Array; tokens: number; dim: number };
  /** The windowed image as an 8-bit grey PNG (no metadata), when the backend asks for one. */
  png?: Uint8Array;
}

export interface GenerateHooks {
  signal?: AbortSignal;
  /**
   * Generated text as it comes. With consensus decoding, `provisional` text is the draft (the
   * first candidate) while the others run, and `replace` text (the chosen answer) replaces all
   * text before it.
   */
  onToken?(text: string, index: number, flags?: TokenFlags): void;
  /** Consensus decoding: candidates finished so far. */
  onCandidates?(done: number, total: number): void;
  /** "summary": the answer should state every finding the findings line gives; "answer" need not. */
  purpose: "summary" | "answer";
}

export interface BackendInfo {
  device: Device | "remote";
  detail: string;
}

export interface Backend<P = unknown> {
  /** Set when the backend needs the image itself: a PNG whose longer side is at most this. */
  readonly imageSize?: number;
  /** Generations it runs at once (default: the engine's `parallel`). */
  readonly parallel?: number;
  /** Set once the model is ready (loaded, or the endpoint answered). */
  readonly info: BackendInfo | undefined;
  /** Extra per-image work (e.g. projecting embeddings), done before the job queues. */
  prepare(image: AnalysedImage): Promise<AnalysedImage>;
  /** The first turn's prompt. */
  firstTurn(image: AnalysedImage, prompt: string): P;
  /** The prompt after `answer` to the previous turn and the next question. */
  nextTurn(previous: P, answer: string, message: string): P;
  /** Throws an InvalidParams EngineError for settings this backend cannot honour. */
  checkSettings(settings: Required<SamplingSettings>): void;
  /** Load the model (idempotent; concurrent callers share one load). */
  load(): Promise<void>;
  generate(prompt: P, settings: SamplingSettings, hooks: GenerateHooks): Promise<GenerationDone>;
  unload(): Promise<void>;
  /** A model served elsewhere: the health of each of its endpoints. */
  endpoints?(): RemoteEndpointHealth[];
}

export interface BackendOptions {
  device: "auto" | "cpu" | "gpu";
  threads: number;
  /** Model processes for a findings-text model (generations at once); 1 when absent. */
  replicas?: number;
  log(line: string): void;
  /** Called when the backend's health changes (an endpoint went down or came back). */
  onHealth?(): void;
}

export type BackendFactory = (entry: LoadedManifest, opts: BackendOptions) => Backend;

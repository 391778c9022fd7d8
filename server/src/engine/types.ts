/**
 * The engine: the daemon's core, used by the JSON-RPC daemon, the CLI and the batch annotator.
 * It owns the model registry, the model processes, the job queue and the pipeline stages.
 */
import type {
  ChatParams,
  ChatResult,
  DecodeImageParams,
  DecodeImageResult,
  FindingsParams,
  FindingsResult,
  ModelInfo,
  ProgressParams,
  ServerStatus,
  SummarizeParams,
  SummarizeResult,
} from "@xraygpt/protocol";
import type { TokenFlags } from "./tokens.js";

export interface JobHooks {
  /** Aborting ends generation early; the result then has stopReason "cancelled". */
  signal?: AbortSignal;
  /** Who asked (a daemon connection): the model's queue takes turns between clients. */
  client?: string;
  /** Provisional (consensus draft) and replacing (the chosen answer) text: see GenerateHooks. */
  onToken?(text: string, index: number, flags?: TokenFlags): void;
  onProgress?(progress: Omit<ProgressParams, "jobId">): void;
}

export interface EngineOptions {
  /** Folders holding `<id>/model.json`; the bundled models/ folder is always included. */
  modelsDirs?: string[];
  /** Model used when a request names none (default: "xraygpt-mini"). */
  defaultModel?: string;
  /** Image paths must lie under one of these (absolute); unrestricted when absent. */
  allowedRoots?: string[];
  device?: "auto" | "cpu" | "gpu";
  /**
   * CPU threads per model (llama.cpp and ONNX Runtime). Default: cores − 1, at least 1 and at
   * most 8 — spinning more threads than free cores makes llama.cpp many times slower.
   */
  threads?: number;
  /**
   * Model processes per findings-text model, each running one generation: a number, or "auto" —
   * as many as the cores hold at `threads` each (at most 4), for a model file of at most 1 GB.
   * Default 1: batch work (annotate) asks for "auto".
   */
  replicas?: number | "auto";
  /** Generations run at once per model (default 1; the rest wait in a fair queue). */
  parallel?: number;
  log?(line: string): void;
}

export type WithoutJob<T> = Omit<T, "jobId">;

export interface Engine {
  /** The folders every path a request names must lie in (EngineOptions.allowedRoots); unrestricted when absent. */
  readonly allowedRoots?: readonly string[];
  /** CPU threads each model runs with (EngineOptions.threads, else chosen from the machine). */
  readonly threads: number;
  listModels(): Promise<ModelInfo[]>;
  loadModel(id: string): Promise<ModelInfo>;
  unloadModel(id: string): Promise<ModelInfo>;
  summarize(params: WithoutJob<SummarizeParams>, hooks?: JobHooks): Promise<WithoutJob<SummarizeResult>>;
  chat(params: WithoutJob<ChatParams>, hooks?: JobHooks): Promise<WithoutJob<ChatResult>>;
  endChat(sessionId: string): Promise<boolean>;
  findings(params: FindingsParams, hooks?: Pick<JobHooks, "signal">): Promise<FindingsResult>;
  decode(params: DecodeImageParams): Promise<DecodeImageResult>;
  status(): ServerStatus;
  /** Called whenever status() changes (queue, loaded models, health). */
  onStatus(listener: (s: ServerStatus) => void): () => void;
  dispose(): Promise<void>;
}

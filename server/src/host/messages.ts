/** Messages between the daemon and a model process (child_process.fork IPC). */
import type { Device, StopReason } from "@xraygpt/protocol";
import type { Manifest } from "../models/manifest.js";
import type { ExpectedFindings } from "./consensus.js";
import type { RgbImage } from "../multimodal/mtmd-addon.js";

/**
 * Streamed text goes to the daemon in messages at most this often: one IPC message per token
 * would cost more than a small model takes to generate it.
 */
export const STREAM_INTERVAL_MS = 8;

/** Fully resolved sampling settings: the manifest's defaults with the request's overrides. */
export type SamplingSettings = Manifest["generation"];

/** The image's soft tokens: nTokens rows of dim floats (row-major), already in the LLM's embedding space. */
export interface SoftTokens {
  embeddings: Float32Array;
  nTokens: number;
  dim: number;
}

/** A soft-token prompt: text, the soft tokens, text (BOS is prepended to the first text). */
export interface SoftPrompt extends SoftTokens {
  prefixText: string;
  suffixText: string;
}

/**
 * A multimodal prompt: chat messages for the GGUF's own chat template and the image. The one
 * message whose content is a pair [before, after] holds the image between the two.
 */
export interface MultimodalPrompt {
  messages: { role: "system" | "user" | "assistant"; content: string | [string, string] }[];
  image: RgbImage;
}

export type ConditioningMode = "findings-text" | "soft-tokens" | "multimodal";

/** "auto": the addon when it is built, else node-llama-cpp. */
export type TextEngine = "auto" | "addon" | "node-llama-cpp";

export type ToHost =
  | {
      type: "load";
      ggufPath: string;
      contextSize: number;
      device: "auto" | "cpu" | "gpu";
      sequences: number;
      threads: number;
      mode: ConditioningMode;
      /** findings-text: generate through the project's addon (batched consensus) when it is built, or always through node-llama-cpp. */
      textEngine?: TextEngine;
      /** multimodal: the vision projector (mmproj GGUF) libmtmd loads beside the LLM. */
      mmprojPath?: string;
    }
  | { type: "generate"; id: number; prompt: string; settings: SamplingSettings; stop: string[]; expected?: ExpectedFindings }
  | { type: "generateSoft"; id: number; prompt: SoftPrompt; settings: SamplingSettings; stop: string[] }
  | { type: "generateMultimodal"; id: number; prompt: MultimodalPrompt; settings: SamplingSettings; stop: string[] }
  | { type: "cancel"; id: number };

export type FromHost =
  | { type: "loaded"; device: Device; gpuLayers: number; detail: string; loadMs: number }
  | { type: "loadFailed"; message: string }
  | { type: "token"; id: number; text: string; index: number; provisional?: boolean; replace?: boolean }
  /** Consensus decoding: candidates finished so far. */
  | { type: "candidates"; id: number; done: number; total: number }
  | {
      type: "done";
      id: number;
      text: string;
      stopReason: StopReason;
      /** Tokens of the answer; sampledTokens counts every candidate's (consensus decoding). */
      tokens: number;
      sampledTokens: number;
      candidates: number;
      promptTokens: number;
      reusedTokens: number;
      promptMs: number;
      generateMs: number;
    }
  | { type: "failed"; id: number; message: string };

/**
 * The multimodal module of the native addon (native/, `MtmdContext`: llama.cpp's libmtmd over a
 * model of the soft-token addon): typed access and loading. When it cannot be used,
 * `loadMtmdAddon` says why in one line ("multimodal models unavailable: ...") instead of throwing.
 */
import { createRequire } from "node:module";
import type { NativeContext, NativeModel } from "../softtoken/addon.js";

/** An 8-bit RGB image, row-major (width * height * 3 bytes). `id` names it for KV reuse (default: a hash of the pixels). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
  id?: string;
}

export type MtmdChunk =
  | { type: "text"; tokens: Int32Array }
  /** `chunk`: the native chunk, for evalImage; nPos: context positions it takes (≠ nTokens with M-RoPE). */
  | { type: "image" | "audio"; id: string; nTokens: number; nPos: number; chunk: object };

export interface NativeMtmdContext {
  /** mtmd's default media marker: where an image goes in the prompt text. */
  readonly marker: string;
  /** The LLM's input embedding width (what the projector must output). */
  readonly nEmbd: number;
  /** Whether the image tokens are decoded with non-causal attention (e.g. Gemma 3). */
  readonly nonCausal: boolean;
  /** Whether the model uses M-RoPE positions (Qwen2-VL family). */
  readonly mrope: boolean;
  /** The projector's output embeddings for the image, as mtmd computes them. */
  encodeImage(image: RgbImage): { embeddings: Float32Array; nTokens: number; dim: number };
  /** The prompt as text and image chunks (one media marker per image; special tokens parsed). */
  tokenize(text: string, images: RgbImage[], options?: { addSpecial?: boolean; parseSpecial?: boolean }): MtmdChunk[];
  /** Encodes an image chunk and decodes it into the context at `pos`; resolves to the next position. */
  evalImage(context: NativeContext, chunk: object, options: { pos: number; seq?: number; nBatch?: number }): Promise<number>;
  free(): void;
}

export interface MtmdContextOptions {
  useGpu?: boolean;
  threads?: number;
}

export type MtmdContextClass = new (model: NativeModel, mmprojPath: string, options?: MtmdContextOptions) => NativeMtmdContext;

const require = createRequire(import.meta.url);

/** The MtmdContext class, or why it is unavailable. Never throws. */
export function loadMtmdAddon(): { ok: true; MtmdContext: MtmdContextClass } | { ok: false; reason: string } {
  let pkg: { MtmdContext?: MtmdContextClass; mtmdUnavailable(): string | undefined };
  try {
    pkg = require("@xraygpt/llama-embed") as typeof pkg;
  } catch (e) {
    return { ok: false, reason: `multimodal models unavailable: the addon package @xraygpt/llama-embed (native/) is not installed (${String((e as Error).message).split("\n")[0]})` };
  }
  const cls = pkg.MtmdContext;
  if (cls) return { ok: true, MtmdContext: cls };
  return { ok: false, reason: `multimodal models unavailable: ${pkg.mtmdUnavailable() ?? "the multimodal module did not load"}` };
}

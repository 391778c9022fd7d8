/**
 * A soft-token prompt as a flat list of items, one per context position: a token id, one row
 * of embeddings, or one position of an image that mtmd evaluates (multimodal models). Comparing the items of a new prompt with what a sequence already holds tells
 * how much of the KV cache can be kept (chat turns re-use the image's soft tokens and the earlier
 * turns instead of decoding them again).
 */
import type { NativeModel } from "./addon.js";

export type PromptPart =
  /** `bos`: prepend the model's BOS token (as llama.cpp's tokenizer does for the first text). */
  | { text: string; bos?: boolean }
  /** Token ids as they are (e.g. mtmd's tokenization of the text between images). */
  | { tokens: Int32Array }
  /** nTokens rows of dim floats (row-major). */
  | { embeddings: Float32Array; nTokens: number; dim: number }
  /** An image chunk the generator's projector (mtmd) encodes and decodes itself. */
  | { image: ImageChunk };

/** An image as mtmd tokenized it: `id` names its pixels, `nPos` the context positions it takes. */
export interface ImageChunk {
  id: string;
  nPos: number;
  /** The native chunk (for MtmdContext.evalImage). */
  chunk: object;
}

/** Position k of an image. */
export interface ImageSlot {
  image: ImageChunk;
  k: number;
}

export type PromptItem = number | Float32Array | ImageSlot;

export function isImageSlot(item: PromptItem | undefined): item is ImageSlot {
  return typeof item === "object" && !(item instanceof Float32Array);
}

/** A manifest template split at its `<ImageHere>` placeholder, `{prompt}` filled in. */
export function splitTemplate(template: string, prompt: string): { prefixText: string; suffixText: string } {
  const parts = template.replace("{prompt}", prompt).split("<ImageHere>");
  if (parts.length !== 2) throw new Error(`the prompt template needs exactly one <ImageHere> placeholder (it has ${parts.length - 1})`);
  return { prefixText: parts[0]!, suffixText: parts[1]! };
}

export function promptItems(model: NativeModel, parts: readonly PromptPart[]): PromptItem[] {
  const items: PromptItem[] = [];
  const nEmbd = model.nEmbd();
  for (const part of parts) {
    if ("text" in part) {
      if (part.text.length === 0 && !part.bos) continue;
      for (const t of model.tokenize(part.text, part.bos ?? false, false)) items.push(t);
      continue;
    }
    if ("tokens" in part) {
      for (const t of part.tokens) items.push(t);
      continue;
    }
    if ("image" in part) {
      for (let k = 0; k < part.image.nPos; k++) items.push({ image: part.image, k });
      continue;
    }
    const { embeddings, nTokens, dim } = part;
    if (dim !== nEmbd) throw new Error(`soft tokens have dimension ${dim} but the LLM's embedding size is ${nEmbd} (a projection to ${nEmbd} is needed)`);
    if (!Number.isInteger(nTokens) || nTokens < 0 || embeddings.length !== nTokens * dim)
      throw new Error(`soft tokens: ${embeddings.length} floats do not make ${nTokens} rows of ${dim}`);
    for (let i = 0; i < nTokens; i++) items.push(embeddings.slice(i * dim, (i + 1) * dim));
  }
  return items;
}

function sameItem(a: PromptItem, b: PromptItem): boolean {
  if (typeof a === "number" || typeof b === "number") return a === b;
  if (isImageSlot(a) || isImageSlot(b)) return isImageSlot(a) && isImageSlot(b) && a.image.id === b.image.id && a.image.nPos === b.image.nPos && a.k === b.k;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Length of the common prefix of two item lists. */
export function commonPrefix(a: readonly PromptItem[], b: readonly PromptItem[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && sameItem(a[i]!, b[i]!)) i++;
  return i;
}

/**
 * Consecutive runs of one kind, ready to decode: Int32Array of tokens, Float32Array of rows, or
 * a whole image (the items must start at an image's first position).
 */
export function decodeRuns(items: readonly PromptItem[], dim: number): (Int32Array | Float32Array | ImageChunk)[] {
  const runs: (Int32Array | Float32Array | ImageChunk)[] = [];
  let i = 0;
  while (i < items.length) {
    const first = items[i]!;
    if (isImageSlot(first)) {
      if (first.k !== 0) throw new Error("decodeRuns: the items start inside an image");
      runs.push(first.image);
      i += first.image.nPos;
      continue;
    }
    let j = i;
    const isToken = typeof items[i] === "number";
    while (j < items.length && !isImageSlot(items[j]) && (typeof items[j] === "number") === isToken) j++;
    if (isToken) runs.push(Int32Array.from(items.slice(i, j) as number[]));
    else {
      const rows = new Float32Array((j - i) * dim);
      for (let k = i; k < j; k++) rows.set(items[k] as Float32Array, (k - i) * dim);
      runs.push(rows);
    }
    i = j;
  }
  return runs;
}

/**
 * `xraygpt models add ID --gguf FILE --mmproj FILE`: a manifest for a vision-language model that
 * llama.cpp's libmtmd runs (a GGUF language model + its vision projector), written into the
 * user's models folder. The two files stay where they are (absolute paths: multi-GB files are not
 * copied). Both are checked first — GGUF magic and a whole file, the projector's
 * `general.architecture` "clip" and `clip.projector_type`, the language model not being a
 * projector, and the projector's output width against the LLM's n_embd (from the projector's
 * output tensor shape) — and what was found is returned for the CLI to print. mtmd checks the
 * width again when the model loads and says so in its own words.
 */
import { resolve } from "node:path";
import { readGgufHeader, type GgufHeader } from "../gguf/reader.js";
import type { Manifest } from "./manifest.js";
import { writeNewManifest } from "./write-manifest.js";

export const DEFAULT_RADIOLOGY_INSTRUCTION =
  "Describe this chest radiograph as a radiology report: a Findings section (lungs, pleura, heart size, mediastinum, bones, lines and tubes) and a one-line Impression.";

export const DEFAULT_SYSTEM_PROMPT =
  "You are an expert radiologist. Describe only what is visible in the image; say when a finding is uncertain. This is research software, not a clinical diagnosis.";

/** Where the projector's output width is, per clip.projector_type (clip.cpp's clip_n_mmproj_embd). */
const OUTPUT_WIDTH: Record<string, { tensor: string; dim: 0 | 1 }> = {
  mlp: { tensor: "mm.2.weight", dim: 1 },
  pixtral: { tensor: "mm.2.weight", dim: 1 },
  lightonocr: { tensor: "mm.2.weight", dim: 1 },
  mlp_norm: { tensor: "mm.3.bias", dim: 0 },
  ldpv2: { tensor: "mm.model.peg.0.bias", dim: 0 },
  gemma3: { tensor: "mm.input_projection.weight", dim: 0 },
  idefics3: { tensor: "mm.model.fc.weight", dim: 1 },
  qwen2vl_merger: { tensor: "mm.1.bias", dim: 0 },
  "qwen2.5vl_merger": { tensor: "mm.1.bias", dim: 0 },
  internvl: { tensor: "mm.3.weight", dim: 1 },
};

export interface VlmFilesInfo {
  llm: { path: string; architecture: string; name?: string; nEmbd: number; contextLength?: number; chatTemplate: boolean; sizeBytes: number };
  mmproj: { path: string; projectorType: string; outputWidth?: number; imageSize?: number; name?: string; sizeBytes: number };
}

function str(h: GgufHeader, key: string): string | undefined {
  const v = h.metadata.get(key);
  return typeof v === "string" ? v : undefined;
}

function num(h: GgufHeader, key: string): number | undefined {
  const v = h.metadata.get(key);
  return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;
}

/** The header, or an error saying the file is cut off when its tensor data runs past its end. */
function wholeGguf(path: string, what: string): GgufHeader {
  let h: GgufHeader;
  try {
    h = readGgufHeader(path);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  if (h.dataEnd !== undefined && h.dataEnd > h.fileSize) throw new Error(`${what}: ${path} is truncated (its tensors need ${h.dataEnd} bytes, the file has ${h.fileSize})`);
  return h;
}

/** A vision projector GGUF: whole, `general.architecture` "clip", a projector type and a vision encoder. */
export function inspectProjector(path: string, what = "vision projector (mmproj)"): { header: GgufHeader; projectorType: string } {
  const mm = wholeGguf(path, what);
  const arch = str(mm, "general.architecture");
  if (arch !== "clip") throw new Error(`${what}: ${path} is not a vision projector: its general.architecture is ${arch ? `"${arch}"` : "missing"}, not "clip" (a text-only GGUF?)`);
  const projectorType = str(mm, "clip.projector_type") ?? str(mm, "clip.vision.projector_type");
  if (!projectorType) throw new Error(`${what}: ${path} has no clip.projector_type`);
  if (mm.metadata.get("clip.has_vision_encoder") === false) throw new Error(`${what}: ${path} has no vision encoder (clip.has_vision_encoder is false)`);
  return { header: mm, projectorType };
}

/** Checks a language-model GGUF and its projector; throws naming the file and what is wrong. */
export function inspectVlmFiles(ggufPath: string, mmprojPath: string): VlmFilesInfo {
  const llm = wholeGguf(ggufPath, "--gguf");
  const llmArch = str(llm, "general.architecture");
  if (!llmArch) throw new Error(`--gguf: ${ggufPath} has no general.architecture (not a llama.cpp model)`);
  if (llmArch === "clip") throw new Error(`--gguf: ${ggufPath} is a vision projector (general.architecture "clip"), not a language model; give it as --mmproj`);
  const nEmbd = num(llm, `${llmArch}.embedding_length`);
  if (!nEmbd) throw new Error(`--gguf: ${ggufPath} has no ${llmArch}.embedding_length`);

  const { header: mm, projectorType } = inspectProjector(mmprojPath, "--mmproj");
  const where = OUTPUT_WIDTH[projectorType];
  const out = where ? mm.tensors.find((t) => t.name === where.tensor) : undefined;
  const outputWidth = out?.shape[where!.dim];
  if (outputWidth !== undefined && outputWidth !== nEmbd)
    throw new Error(`--mmproj: ${mmprojPath} outputs embeddings of width ${outputWidth} (${out!.name}) but the language model ${ggufPath} has n_embd ${nEmbd}: they are not a pair`);
  const ctx = num(llm, `${llmArch}.context_length`);
  const llmName = str(llm, "general.name");
  const mmName = str(mm, "general.name");
  const imageSize = num(mm, "clip.vision.image_size");
  return {
    llm: { path: ggufPath, architecture: llmArch, ...(llmName ? { name: llmName } : {}), nEmbd, ...(ctx ? { contextLength: ctx } : {}), chatTemplate: typeof str(llm, "tokenizer.chat_template") === "string", sizeBytes: llm.fileSize },
    mmproj: { path: mmprojPath, projectorType, ...(outputWidth !== undefined ? { outputWidth } : {}), ...(imageSize ? { imageSize } : {}), ...(mmName ? { name: mmName } : {}), sizeBytes: mm.fileSize },
  };
}

export interface AddMultimodalOptions {
  id: string;
  modelsDir: string;
  gguf: string;
  mmproj: string;
  name?: string;
  /** Context positions (default 4096, at most the model's training context). */
  contextSize?: number;
}

export async function addMultimodalModel(o: AddMultimodalOptions): Promise<{ path: string; manifest: Manifest; info: VlmFilesInfo }> {
  const gguf = resolve(o.gguf);
  const mmproj = resolve(o.mmproj);
  const info = inspectVlmFiles(gguf, mmproj);
  if (!info.llm.chatTemplate) throw new Error(`--gguf: ${gguf} has no tokenizer.chat_template; a multimodal model needs its chat template`);
  const contextSize = Math.min(o.contextSize ?? 4096, info.llm.contextLength ?? Infinity);
  const json = {
    id: o.id,
    name: o.name ?? info.llm.name ?? o.id,
    version: "1",
    description: `${info.llm.name ?? info.llm.architecture} with its ${info.mmproj.projectorType} vision projector, run by llama.cpp's libmtmd`,
    license: "the model's own (see where you downloaded it)",
    llm: { file: gguf, mmproj, contextSize },
    conditioning: { mode: "multimodal" },
    prompt: { system: DEFAULT_SYSTEM_PROMPT, template: "<ImageHere>\n{prompt}", stop: [], defaultPrompt: DEFAULT_RADIOLOGY_INSTRUCTION },
    generation: { maxTokens: 512, temperature: 0, topP: 0.95, topK: 64, repeatPenalty: 1.05, seed: 0 },
  };
  return { ...(await writeNewManifest(o.modelsDir, o.id, json)), info };
}

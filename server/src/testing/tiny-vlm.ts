/**
 * Tiny multimodal models for tests, in the layout llama.cpp's libmtmd (clip.cpp, release v0.4.0)
 * loads: a language-model GGUF (tiny llama architecture) plus a vision projector GGUF (`mmproj`,
 * `general.architecture` "clip"). Random (seeded) f32 weights; deterministic for a seed.
 *
 * - `mlp`: a CLIP-style ViT (class embedding, pre-LN, quick-GELU, LLaVA's two-layer GELU MLP
 *   projector `mm.0` / `mm.2`); clip.cpp runs all but the last block (LLaVA's feature layer -2).
 * - `gemma3`: a SigLIP-style ViT (patch bias, post-LN, tanh-GELU), average pooling by
 *   `clip.vision.projector.scale_factor`, RMS norm (`mm.soft_emb_norm`) and the input projection
 *   (`mm.input_projection`); the LLM carries a Gemma-3-style chat template and the image
 *   delimiters `<start_of_image>` / `<end_of_image>` as control tokens, which mtmd puts around
 *   the image embeddings.
 *
 * test/reference/mtmd_vision.py computes the same forward pass in numpy from the mmproj file.
 */
import { open, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { writeGguf, type GgufTensor, type GgufValue } from "../gguf/writer.js";
import type { RgbImage } from "../multimodal/mtmd-addon.js";
import { randomTensors, writeTinyLlama } from "./tiny-llama.js";

export type VlmProjector = "mlp" | "gemma3";

export interface TinyVlmOptions {
  projector: VlmProjector;
  seed?: number;
  /** The LLM's n_embd (default 48). */
  llmEmbd?: number;
  /** The projector's output width (default: llmEmbd). A different value makes a mismatched pair. */
  mmprojEmbd?: number;
  /** File name prefix inside dir (default `tiny-<projector>`). */
  name?: string;
}

export interface TinyVlm {
  projector: VlmProjector;
  /** The language model. */
  gguf: string;
  /** The vision projector. */
  mmproj: string;
  /** Side length of the square image the tower takes (clip.vision.image_size). */
  imageSize: number;
  /** Embeddings (LLM positions) one image becomes. */
  nImageTokens: number;
  /** Width of each image embedding (the projector's output). */
  embdDim: number;
  /** The LLM's n_embd. */
  llmEmbd: number;
  /** Media marker in a prompt (mtmd's default). */
  marker: string;
  /** A sentence-ending control token the chat template ends a turn with (gemma3), if any. */
  endOfTurn?: string;
}

/** mtmd_default_marker() of llama.cpp's tools/mtmd. */
export const MTMD_DEFAULT_MARKER = "<__media__>";

/** Gemma 3's chat template, shortened (same turns, system prompt folded into the first user turn). */
export const GEMMA3_CHAT_TEMPLATE =
  "{{ bos_token }}{%- if messages[0]['role'] == 'system' -%}{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}" +
  "{%- set loop_messages = messages[1:] -%}{%- else -%}{%- set first_user_prefix = '' -%}{%- set loop_messages = messages -%}{%- endif -%}" +
  "{%- for message in loop_messages -%}{%- if message['role'] == 'assistant' -%}{%- set role = 'model' -%}{%- else -%}{%- set role = message['role'] -%}{%- endif -%}" +
  "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}{{ message['content'] | trim }}{{ '<end_of_turn>\n' }}{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}";

/** LLaVA 1.5's (Vicuna) conversation format. */
export const LLAVA_CHAT_TEMPLATE =
  "{{ bos_token }}{%- for message in messages -%}{%- if message['role'] == 'system' -%}{{ message['content'] + ' ' }}" +
  "{%- elif message['role'] == 'user' -%}{{ 'USER: ' + message['content'] + ' ' }}{%- else -%}{{ 'ASSISTANT: ' + message['content'] + '</s>' }}{%- endif -%}{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{ 'ASSISTANT:' }}{%- endif -%}";

interface Tower {
  imageSize: number;
  patch: number;
  embd: number;
  heads: number;
  ff: number;
  layers: number;
  mean: number[];
  std: number[];
  /** gemma3 only: pooling kernel. */
  merge?: number;
}

const TOWERS: Record<VlmProjector, Tower> = {
  mlp: { imageSize: 32, patch: 8, embd: 32, heads: 4, ff: 80, layers: 3, mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] },
  gemma3: { imageSize: 32, patch: 4, embd: 32, heads: 4, ff: 80, layers: 2, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], merge: 2 },
};

function imageTokens(projector: VlmProjector, t: Tower): number {
  const side = t.imageSize / t.patch;
  return projector === "gemma3" ? (side / t.merge!) ** 2 : side * side;
}

function mmprojTensors(projector: VlmProjector, t: Tower, outEmbd: number, seed: number): GgufTensor[] {
  const { mat } = randomTensors(seed);
  const d = t.embd;
  const nPatch = (t.imageSize / t.patch) ** 2;
  const lin = (name: string, inDim: number, outDim: number, gain = 1): GgufTensor[] => [
    mat(`${name}.weight`, [inDim, outDim], gain / Math.sqrt(inDim)),
    mat(`${name}.bias`, [outDim], 0.1),
  ];
  const norm = (name: string): GgufTensor[] => [mat(`${name}.weight`, [d], 0.1, 1), mat(`${name}.bias`, [d], 0.1)];
  const out: GgufTensor[] = [mat("v.patch_embd.weight", [t.patch, t.patch, 3, d], 1 / Math.sqrt(3 * t.patch * t.patch))];
  if (projector === "mlp") {
    out.push(mat("v.class_embd", [d], 0.5), mat("v.position_embd.weight", [d, nPatch + 1], 0.2), ...norm("v.pre_ln"));
  } else {
    out.push(mat("v.patch_embd.bias", [d], 0.1), mat("v.position_embd.weight", [d, nPatch], 0.2));
  }
  for (let l = 0; l < t.layers; l++) {
    const p = `v.blk.${l}`;
    out.push(
      ...norm(`${p}.ln1`),
      ...lin(`${p}.attn_q`, d, d),
      ...lin(`${p}.attn_k`, d, d),
      ...lin(`${p}.attn_v`, d, d),
      ...lin(`${p}.attn_out`, d, d),
      ...norm(`${p}.ln2`),
      ...lin(`${p}.ffn_up`, d, t.ff),
      ...lin(`${p}.ffn_down`, t.ff, d),
    );
  }
  if (projector === "mlp") {
    out.push(...lin("mm.0", d, outEmbd), ...lin("mm.2", outEmbd, outEmbd, 2));
  } else {
    out.push(...norm("v.post_ln"), mat("mm.soft_emb_norm.weight", [d], 0.1, 1), mat("mm.input_projection.weight", [outEmbd, d], 2 / Math.sqrt(d)));
  }
  return out;
}

function mmprojMetadata(projector: VlmProjector, t: Tower, outEmbd: number): Record<string, GgufValue> {
  const u32 = (value: number): GgufValue => ({ type: "u32", value });
  const meta: Record<string, GgufValue> = {
    "general.architecture": { type: "string", value: "clip" },
    "general.name": { type: "string", value: `tiny-${projector}-mmproj-fixture` },
    "general.file_type": u32(0),
    "clip.has_vision_encoder": { type: "bool", value: true },
    "clip.projector_type": { type: "string", value: projector },
    "clip.vision.image_size": u32(t.imageSize),
    "clip.vision.patch_size": u32(t.patch),
    "clip.vision.embedding_length": u32(t.embd),
    "clip.vision.feed_forward_length": u32(t.ff),
    "clip.vision.block_count": u32(t.layers),
    "clip.vision.projection_dim": u32(outEmbd),
    "clip.vision.attention.head_count": u32(t.heads),
    "clip.vision.attention.layer_norm_epsilon": { type: "f32", value: projector === "gemma3" ? 1e-6 : 1e-5 },
    "clip.vision.image_mean": { type: "f32[]", value: t.mean },
    "clip.vision.image_std": { type: "f32[]", value: t.std },
    "clip.use_gelu": { type: "bool", value: projector === "gemma3" },
  };
  if (projector === "gemma3") meta["clip.vision.projector.scale_factor"] = u32(t.merge!);
  return meta;
}

/** Write `<name>-llm.gguf` and `<name>-mmproj.gguf` into dir. */
export async function writeTinyVlm(dir: string, opts: TinyVlmOptions): Promise<TinyVlm> {
  const { projector } = opts;
  const seed = opts.seed ?? 1;
  const llmEmbd = opts.llmEmbd ?? 48;
  const outEmbd = opts.mmprojEmbd ?? llmEmbd;
  const tower = TOWERS[projector];
  const name = opts.name ?? `tiny-${projector}`;
  const gguf = join(dir, `${name}-llm.gguf`);
  const mmproj = join(dir, `${name}-mmproj.gguf`);
  const gemma = projector === "gemma3";
  await writeTinyLlama(gguf, {
    seed: seed + 1000,
    nEmbd: llmEmbd,
    nHead: 4,
    nFf: 2 * llmEmbd,
    controlTokens: gemma ? ["<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>"] : [],
    metadata: {
      "general.name": { type: "string", value: `${name}-llm-fixture` },
      "tokenizer.chat_template": { type: "string", value: gemma ? GEMMA3_CHAT_TEMPLATE : LLAVA_CHAT_TEMPLATE },
    },
  });
  await writeGguf(mmproj, mmprojMetadata(projector, tower, outEmbd), mmprojTensors(projector, tower, outEmbd, seed));
  return {
    projector,
    gguf,
    mmproj,
    imageSize: tower.imageSize,
    nImageTokens: imageTokens(projector, tower),
    embdDim: outEmbd,
    llmEmbd,
    marker: MTMD_DEFAULT_MARKER,
    ...(gemma ? { endOfTurn: "<end_of_turn>" } : {}),
  };
}

/** A copy of the VLM's mmproj cut to `fraction` of its bytes (default: half, inside the tensor data). */
export async function writeTruncatedMmproj(vlm: TinyVlm, dest: string, fraction = 0.5): Promise<string> {
  const { size } = await stat(vlm.mmproj);
  const fh = await open(vlm.mmproj, "r");
  try {
    const buf = Buffer.alloc(Math.floor(size * fraction));
    await fh.read(buf, 0, buf.length, 0);
    await writeFile(dest, buf);
  } finally {
    await fh.close();
  }
  return dest;
}

/** An mmproj whose output width (`llmEmbd + 16`) does not match the VLM's LLM; written beside it. */
export async function writeMismatchedMmproj(dir: string, vlm: TinyVlm, seed = 1): Promise<string> {
  const other = await writeTinyVlm(dir, { projector: vlm.projector, seed, llmEmbd: vlm.llmEmbd, mmprojEmbd: vlm.llmEmbd + 16, name: `mismatched-${vlm.projector}` });
  return other.mmproj;
}

export async function writeRgbPng(path: string, image: RgbImage): Promise<string> {
  await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } }).png().toFile(path);
  return path;
}

/** An RGB test image (default square): `pattern` picks one of a few. */
export function testImage(width: number, pattern: "gradient" | "checker" | "disc" | "noise", seed = 7, height = width): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  const noise = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
  const r = Math.min(width, height) / 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let rgb: [number, number, number];
      if (pattern === "gradient") rgb = [(255 * x) / (width - 1), (255 * y) / (height - 1), 128];
      else if (pattern === "checker") rgb = ((x >> 2) + (y >> 2)) % 2 ? [240, 240, 240] : [16, 16, 16];
      else if (pattern === "disc") rgb = (x - width / 2) ** 2 + (y - height / 2) ** 2 < r * r ? [230, 200, 60] : [20, 40, 90];
      else rgb = [noise(), noise(), noise()];
      data.set(rgb.map((v) => Math.round(v)), 3 * (y * width + x));
    }
  }
  return { data, width, height };
}

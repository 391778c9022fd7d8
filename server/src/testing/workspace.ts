/**
 * A temporary test workspace: a fixture models folder (a working tiny model and a model whose
 * GGUF aborts llama.cpp) and synthetic radiograph-like PNGs; or one of soft-token models.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { writeFixtureModel } from "./fixture-model.js";
import { SOFT_TOKEN_TEMPLATE, writeSoftTokenFixtureModel } from "./soft-token-fixture.js";
import { writeTinyLlama } from "./tiny-llama.js";

export interface TestWorkspace {
  dir: string;
  modelsDir: string;
  /** Synthetic PNGs, each different. */
  images: string[];
  cleanup(): Promise<void>;
}

/** A grey 8-bit image with a chest-like pattern that varies with `seed`. */
export async function writeSyntheticPng(path: string, seed: number, width = 96, height = 80): Promise<void> {
  const px = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const lung = Math.abs(x - width / 2) > width / 8 && Math.abs(x - width / 2) < width / 2.5 && y > height / 8 && y < (7 * height) / 8;
      const v = (lung ? 60 : 170) + 40 * Math.sin((x * (seed + 1)) / 7 + y / (5 + seed)) + ((x * 13 + y * 7 * (seed + 3)) % 23);
      px[y * width + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  await sharp(px, { raw: { width, height, channels: 1 } }).png().toFile(path);
}

/** The ids of the fixture models in `modelsDir`. */
export const FIXTURE_MODEL = "fixture-tiny";
export const LONG_MODEL = "fixture-long";
export const BROKEN_MODEL = "fixture-broken";

async function writeImages(dir: string, count: number): Promise<string[]> {
  const images: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = join(dir, `image-${i}.png`);
    await writeSyntheticPng(p, i);
    images.push(p);
  }
  return images;
}

export async function makeTestWorkspace(imageCount = 3): Promise<TestWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), "xraygpt-test-"));
  const modelsDir = join(dir, "models");
  await writeFixtureModel(modelsDir, FIXTURE_MODEL);
  // Generates long outputs (no stop strings, many tokens): for cancellation and queueing tests.
  await writeFixtureModel(modelsDir, LONG_MODEL, {
    manifest: {
      llm: { file: "llm.gguf", contextSize: 2048 },
      prompt: { template: "###Patient: {findings} {prompt} ###Doctor:", stop: [], defaultPrompt: "Describe the image." },
      generation: { maxTokens: 1500, temperature: 0, topP: 1, topK: 0, repeatPenalty: 1, seed: 3 },
    },
    llm: { contextLength: 2048, nEmbd: 64, nLayer: 4 },
  });
  // head_count 0 makes llama.cpp abort (GGML_ASSERT) while loading: the process dies.
  const broken = await writeFixtureModel(modelsDir, BROKEN_MODEL);
  await writeTinyLlama(join(broken, "llm.gguf"), {
    metadata: { "llama.attention.head_count": { type: "u32", value: 0 }, "llama.attention.head_count_kv": { type: "u32", value: 0 } },
  });
  const images = await writeImages(dir, imageCount);
  return { dir, modelsDir, images, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The ids of the soft-token fixture models (conditioning "soft-tokens") in a soft-token workspace. */
export const SOFT_MODEL = "fixture-soft";
export const SOFT_LONG_MODEL = "fixture-soft-long";

/**
 * A workspace of soft-token models: SOFT_MODEL (8 soft tokens of 24 values through a projection
 * file into the LLM's 32), SOFT_LONG_MODEL (no projection; long outputs without stop strings,
 * for cancellation, queueing and crash tests), and the findings-text FIXTURE_MODEL beside them.
 */
export async function makeSoftTokenWorkspace(imageCount = 3): Promise<TestWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), "xraygpt-soft-test-"));
  const modelsDir = join(dir, "models");
  await writeSoftTokenFixtureModel(modelsDir, SOFT_MODEL, { tokens: 8, nEmbd: 32, visionDim: 24 });
  await writeSoftTokenFixtureModel(modelsDir, SOFT_LONG_MODEL, {
    tokens: 6,
    nEmbd: 64,
    llm: { contextLength: 2048, nLayer: 4 },
    manifest: {
      llm: { file: "llm.gguf", contextSize: 2048 },
      prompt: { template: SOFT_TOKEN_TEMPLATE, stop: [], defaultPrompt: "Describe the image." },
      generation: { maxTokens: 1500, temperature: 0, topP: 1, topK: 0, repeatPenalty: 1, seed: 3 },
    },
  });
  await writeFixtureModel(modelsDir, FIXTURE_MODEL);
  const images = await writeImages(dir, imageCount);
  return { dir, modelsDir, images, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

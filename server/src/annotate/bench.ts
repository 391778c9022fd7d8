/**
 * Batch throughput benchmark (for `npm run bench`): images/min of `annotateBatch` with
 * `concurrency` images in flight over a serial loop of single `summarize` calls, on the same
 * engine, model and images. The serial loop runs first on a warm model (one summarize before
 * timing), then the batch into a fresh log in `workDir`.
 */
import { join } from "node:path";
import type { GenerationSettings } from "@xraygpt/protocol";
import type { Engine } from "../engine/types.js";
import { annotateBatch } from "./annotate.js";

export interface AnnotateBenchResult {
  images: number;
  concurrency: number;
  serialImagesPerMin: number;
  batchImagesPerMin: number;
  /** batch / serial: the goal is ≥ 1.5. */
  speedup: number;
}

export async function benchAnnotate(engine: Engine, images: string[], workDir: string, options: { model?: string; concurrency?: number; generation?: GenerationSettings } = {}): Promise<AnnotateBenchResult> {
  const concurrency = options.concurrency ?? 2;
  await engine.summarize({ image: images[0]!, model: options.model, generation: options.generation });
  let t = performance.now();
  for (const image of images) await engine.summarize({ image, model: options.model, generation: options.generation });
  const serialMs = performance.now() - t;
  t = performance.now();
  const s = await annotateBatch({ engine, images, out: join(workDir, `bench-${Date.now()}.jsonl`), model: options.model, generation: options.generation, concurrency });
  const batchMs = performance.now() - t;
  if (s.failed > 0) throw new Error(`benchAnnotate: ${s.failed} images failed`);
  const perMin = (ms: number) => (images.length * 60_000) / ms;
  return { images: images.length, concurrency, serialImagesPerMin: perMin(serialMs), batchImagesPerMin: perMin(batchMs), speedup: serialMs / batchMs };
}

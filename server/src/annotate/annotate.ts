/**
 * The batch annotator: every image through `engine.summarize`, one fsynced log line per image,
 * resumable. Images already in the log with the same SHA-256, model manifest hash and requested
 * prompt are skipped (failed ones too, unless `retryFailed`), so a re-run after a crash finishes
 * the batch with every image exactly once. Failed images get a record with their error and the
 * batch goes on; when the model itself is unavailable the batch stops with that error instead
 * (nothing is recorded for the image, so a re-run tries it again). Up to `concurrency` images are in flight: the engine decodes and runs vision
 * outside its per-model generation queue, so vision for the next images overlaps generation for
 * the current one; a remote model spreads them over its endpoints. Records are written in the
 * order of `images` whatever the concurrency.
 */
import type { AnnotateResult, GenerationSettings, ModelInfo, ModelRef } from "@xraygpt/protocol";
import type { Engine } from "../engine/types.js";
import { describeError } from "../engine/errors.js";
import { Journal } from "./journal.js";
import { acquireLock } from "./lock.js";
import { sha256File } from "./hash.js";
import { PathGuard } from "../util/path-guard.js";
import { isAnnotation, LOG_SCHEMA, resumeKey, type AnnotationRecord } from "./record.js";

export interface AnnotateProgress {
  total: number;
  /** Images finished this run (annotated + failed + skipped). */
  done: number;
  annotated: number;
  failed: number;
  /** Already in the log (or a duplicate of an image earlier in this batch). */
  skipped: number;
  /** Estimated ms left, from the mean time per image annotated so far. */
  etaMs?: number;
  /** The record just written, when an image finished. */
  record?: AnnotationRecord;
}

export interface AnnotateOptions {
  engine: Engine;
  images: string[];
  out: string;
  /** Model id; the engine's default model when absent. */
  model?: string;
  /** Instruction for the model; the model's default prompt when absent. */
  prompt?: string;
  generation?: GenerationSettings;
  /** Images in flight at once (default: defaultConcurrency of the model). */
  concurrency?: number;
  /** Run again the images whose log records are all errors. */
  retryFailed?: boolean;
  /** The log and every image must lie in these folders (util/path-guard.ts); unrestricted when absent. */
  allowedRoots?: readonly string[];
  signal?: AbortSignal;
  /** Whose batch this is: the engine's queue takes turns between clients. */
  client?: string;
  onProgress?(p: AnnotateProgress): void;
  /** Once the model is resolved: the images that will be in flight at once. */
  onStart?(plan: { concurrency: number; replicas: number; model: ModelRef }): void;
  warn?(message: string): void;
}

/** A batch's counts: the protocol's annotate result without its job id. */
export type AnnotateSummary = Omit<AnnotateResult, "jobId">;

export class AnnotateError extends Error {
  override name = "AnnotateError";
}

/** Resume-key stand-in for a file that could not be read (it has no SHA-256). */
const unreadable = (image: string) => `unreadable:${image}`;

async function resolveModel(engine: Engine, id: string | undefined): Promise<ModelInfo> {
  const models = await engine.listModels();
  const m = id ? models.find((x) => x.id === id) : models.find((x) => x.default);
  if (!m) throw new AnnotateError(id ? `unknown model "${id}" (installed: ${models.map((x) => x.id).join(", ") || "none"})` : "no default model installed; pass --model");
  if (!m.available) throw new AnnotateError(`model "${m.id}" is not available: ${m.problem ?? "unknown problem"}`);
  return m;
}

/** What one image came to: a record to write, a skip, or nothing (cancelled, or the batch must stop). */
type Outcome = { record: AnnotationRecord; failed: boolean } | "skipped" | "none";

/** Images in flight when the caller names no number: a remote model's endpoints × their maxConcurrency, else its model processes + 1. */
export function defaultConcurrency(model: ModelInfo): number {
  // Local: one image per model process, and one more decoding meanwhile.
  return model.remote ? model.remote.maxConcurrency * model.remote.baseUrls.length : (model.replicas ?? 1) + 1;
}

export async function annotateBatch(options: AnnotateOptions): Promise<AnnotateSummary> {
  const { engine, images, out } = options;
  const warn = options.warn ?? (() => {});
  const promptRequested = options.prompt ?? null;
  const guard = new PathGuard(options.allowedRoots);
  guard.check(out);
  const lock = acquireLock(out);
  let journal: Journal | undefined;
  try {
    journal = Journal.open(out, warn);
    const info = await resolveModel(engine, options.model);
    const model: ModelRef = { id: info.id, version: info.version, manifestHash: info.manifestHash };
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? defaultConcurrency(info)));
    options.onStart?.({ concurrency, replicas: info.replicas ?? 1, model });
    const done = new Set<string>();
    for (const r of journal.state.records) {
      if (!isAnnotation(r) || r.model?.manifestHash !== model.manifestHash || (r.promptRequested ?? null) !== promptRequested) continue;
      if (r.error && options.retryFailed) continue;
      done.add(resumeKey(r.sha256 || unreadable(r.image), model.manifestHash, promptRequested));
    }
    const progress: AnnotateProgress = { total: images.length, done: 0, annotated: 0, failed: 0, skipped: 0 };
    let workMs = 0;
    let fatal: AnnotateError | undefined;
    const j = journal;

    /** One image: hash, skip when done, else summarize; never throws. */
    const annotateOne = async (image: string): Promise<Outcome> => {
      const started = performance.now();
      const startedAt = new Date().toISOString();
      let sha256 = "";
      const base = () => ({
        type: "annotation" as const,
        schema: LOG_SCHEMA,
        image,
        sha256,
        model,
        promptRequested,
        generation: options.generation ?? {},
        startedAt,
      });
      try {
        guard.check(image);
        sha256 = await sha256File(image);
      } catch (e) {
        const err = e as Error & { kind?: string };
        const unreadableKey = resumeKey(unreadable(image), model.manifestHash, promptRequested);
        if (done.has(unreadableKey)) return "skipped";
        done.add(unreadableKey);
        return { failed: true, record: { ...base(), wallMs: performance.now() - started, error: { message: err.message, kind: err.kind === "PathNotAllowed" ? "PathNotAllowed" : "BadImage" }, finishedAt: new Date().toISOString() } };
      }
      const key = resumeKey(sha256, model.manifestHash, promptRequested);
      if (done.has(key)) return "skipped";
      done.add(key);
      try {
        const r = await engine.summarize({ image, model: model.id, prompt: options.prompt, generation: options.generation }, { signal: options.signal, ...(options.client ? { client: options.client } : {}) });
        if (r.stopReason === "cancelled") {
          done.delete(key);
          return "none";
        }
        if (r.model.manifestHash !== model.manifestHash) warn(`model ${model.id} changed during the batch (manifest hash ${r.model.manifestHash})`);
        return {
          failed: false,
          record: {
            ...base(),
            model: r.model,
            prompt: r.prompt,
            generation: r.generation,
            imageInfo: r.image,
            findings: r.findings,
            text: r.text,
            stopReason: r.stopReason,
            timings: r.timings,
            wallMs: performance.now() - started,
            finishedAt: new Date().toISOString(),
          },
        };
      } catch (e) {
        done.delete(key);
        if (options.signal?.aborted) return "none";
        const d = describeError(e);
        // The model, not the image (e.g. every endpoint down): stop the batch and record nothing for this image.
        if (d.kind === "ModelUnavailable") {
          fatal ??= new AnnotateError(d.message);
          return "none";
        }
        done.add(key);
        return { failed: true, record: { ...base(), wallMs: performance.now() - started, error: { message: d.message, kind: d.kind }, finishedAt: new Date().toISOString() } };
      }
    };

    // Images finish in any order but are written in the order given, so the log is the same at any
    // concurrency, and a killed run's log is always a prefix of it. An image that ends with nothing
    // (cancelled, a fatal error) halts the batch: the ones after it are not written (a re-run does them).
    const finished = new Map<number, Outcome>();
    let committed = 0;
    let next = 0;
    let halted = false;
    const wakers = new Set<() => void>();
    const commit = () => {
      while (!halted && finished.has(committed)) {
        const o = finished.get(committed)!;
        finished.delete(committed);
        if (o === "none") {
          halted = true;
          break;
        }
        if (o !== "skipped") {
          try {
            j.append(o.record);
          } catch (e) {
            // A write error (disk full) stops the batch; the error names the log.
            fatal ??= new AnnotateError((e as Error).message);
            halted = true;
            break;
          }
          if (o.failed) progress.failed++;
          else progress.annotated++;
          workMs += o.record.wallMs;
        } else progress.skipped++;
        committed++;
        progress.done++;
        const worked = progress.annotated + progress.failed;
        progress.etaMs = worked > 0 ? (workMs / worked / concurrency) * (images.length - progress.done) : undefined;
        options.onProgress?.({ ...progress, ...(o !== "skipped" ? { record: o.record } : {}) });
      }
      for (const w of [...wakers]) w();
    };
    /** Finished images wait in memory for the ones before them; at most this many ahead of the log. */
    const window = concurrency * 4;
    const room = () => new Promise<void>((resolve) => wakers.add(function wake() { wakers.delete(wake); resolve(); }));
    const worker = async () => {
      for (;;) {
        while (!halted && next >= committed + window) await room();
        if (halted || fatal || next >= images.length || options.signal?.aborted) return;
        const i = next++;
        finished.set(i, await annotateOne(images[i]!));
        commit();
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, images.length)) }, worker));
    if (fatal) throw fatal;
    return { total: images.length, annotated: progress.annotated, failed: progress.failed, skipped: progress.skipped, cancelled: images.length - committed, model, out };
  } finally {
    journal?.close();
    lock.release();
  }
}

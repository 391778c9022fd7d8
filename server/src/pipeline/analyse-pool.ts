/**
 * A small pool of worker threads running decode + preprocess (analyse-worker.ts). Errors come
 * back with their kind (BadImage, PathNotAllowed, ...) and file; a worker that dies fails its
 * job and is replaced. A job that takes longer than the deadline (a file system that stops
 * answering, a codec that spins) fails with BadImage and its worker is terminated and replaced,
 * so one misbehaving file never holds the pool.
 */
import { Worker } from "node:worker_threads";
import type { ImageInfo } from "@xraygpt/protocol";
import type { VisionSpec } from "../models/manifest.js";
import type { DecodedImage } from "./decode/index.js";
import { EngineError } from "../engine/errors.js";
import type { ErrorKind } from "@xraygpt/protocol";

/** With `input`: decode + preprocess for the vision model; with `png` only: the PNG; with neither: decode for the viewer. */
export interface PreprocessRequest {
  id: number;
  image: string;
  allowedRoots?: string[];
  input?: VisionSpec["input"];
  maxSize?: number;
  /** The windowed image as an 8-bit grey PNG whose longer side is at most this. */
  png?: number;
}

export type PreprocessResponse =
  | { id: number; ok: true; info: ImageInfo; tensor?: Float32Array; png?: Uint8Array; image?: DecodedImage; decodeMs: number }
  | { id: number; ok: false; error: { kind?: string; message: string; file?: string } };

export interface Preprocessed {
  info: ImageInfo;
  /** With an `input` (a vision model). */
  tensor?: Float32Array;
  /** When asked for. */
  png?: Uint8Array;
  decodeMs: number;
}

interface Job {
  request: PreprocessRequest;
  timer?: NodeJS.Timeout;
  resolve(p: Extract<PreprocessResponse, { ok: true }>): void;
  reject(e: Error): void;
}

const WORKER = new URL("./analyse-worker.js", import.meta.url);

export class AnalysePool {
  private idle: Worker[] = [];
  private busy = new Map<Worker, Job>();
  private waiting: Job[] = [];
  private nextId = 1;
  private closed = false;

  /** `timeoutMs`: the most one decode may take (default 120 s). */
  constructor(
    private readonly size: number,
    private readonly opts: { timeoutMs?: number } = {},
  ) {}

  /** Decode + preprocess for the vision model, when there is one (and a PNG of the windowed image, longer side ≤ `png`, when asked). */
  async run(image: string, input: VisionSpec["input"] | undefined, allowedRoots?: string[], png?: number): Promise<Preprocessed> {
    const r = await this.submit({ image, ...(input ? { input } : {}), ...(allowedRoots ? { allowedRoots } : {}), ...(png ? { png } : {}) });
    return { info: r.info, ...(r.tensor ? { tensor: r.tensor } : {}), ...(r.png ? { png: r.png } : {}), decodeMs: r.decodeMs };
  }

  /** Decode for the viewer: 16-bit pixels, downscaled to `maxSize` when given. */
  async view(image: string, maxSize: number | undefined, allowedRoots?: string[]): Promise<DecodedImage> {
    return (await this.submit({ image, ...(maxSize ? { maxSize } : {}), ...(allowedRoots ? { allowedRoots } : {}) })).image!;
  }

  private submit(request: Omit<PreprocessRequest, "id">): Promise<Extract<PreprocessResponse, { ok: true }>> {
    if (this.closed) return Promise.reject(new Error("the analyse pool is closed"));
    return new Promise((resolve, reject) => {
      this.waiting.push({ request: { id: this.nextId++, ...request }, resolve, reject });
      this.pump();
    });
  }

  private spawn(): Worker {
    const w = new Worker(WORKER);
    w.unref();
    w.on("message", (m: PreprocessResponse) => {
      const job = this.busy.get(w);
      this.busy.delete(w);
      this.idle.push(w);
      if (job) {
        clearTimeout(job.timer);
        if (m.ok) job.resolve(m);
        else job.reject(new EngineError((m.error.kind as ErrorKind | undefined) ?? "Internal", m.error.message, m.error.file));
      }
      this.pump();
    });
    w.on("error", (e) => this.lost(w, e));
    w.on("exit", (code) => code !== 0 && this.lost(w, new Error(`decode worker exited with code ${code}`)));
    return w;
  }

  private lost(w: Worker, e: Error): void {
    const job = this.busy.get(w);
    this.busy.delete(w);
    this.idle = this.idle.filter((x) => x !== w);
    if (job) clearTimeout(job.timer);
    job?.reject(new EngineError("Internal", `decoding ${job.request.image} failed: ${e.message}`, job.request.image));
    this.pump();
  }

  private pump(): void {
    while (this.waiting.length && !this.closed) {
      let w = this.idle.pop();
      if (!w) {
        if (this.busy.size >= this.size) return;
        w = this.spawn();
      }
      const job = this.waiting.shift()!;
      this.busy.set(w, job);
      const worker = w;
      const ms = this.opts.timeoutMs ?? 120_000;
      job.timer = setTimeout(() => this.expire(worker, job, ms), ms);
      job.timer.unref();
      w.postMessage(job.request);
    }
  }

  /** The job ran past its deadline: fail it, terminate its worker (a fresh one takes the next job). */
  private expire(w: Worker, job: Job, ms: number): void {
    if (this.busy.get(w) !== job) return;
    this.busy.delete(w);
    w.removeAllListeners();
    w.on("error", () => undefined);
    void w.terminate();
    job.reject(new EngineError("BadImage", `${job.request.image}: decoding took longer than ${ms / 1000} s (stopped)`, job.request.image));
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting) job.reject(new Error("the analyse pool is closed"));
    this.waiting = [];
    await Promise.all([...this.idle, ...this.busy.keys()].map((w) => w.terminate()));
    this.idle = [];
    this.busy.clear();
  }
}

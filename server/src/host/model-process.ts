/**
 * The daemon's side of a model process: spawns host-main.js on first use, loads the GGUF,
 * forwards generations and cancellations, and turns a dead process into errors for whatever
 * was pending. The next use after a crash starts a fresh process.
 *
 * Limits: a load that takes longer than `loadTimeoutMs` (default 120 s, XRAYGPT_MODEL_LOAD_TIMEOUT_S)
 * and a process whose resident memory (RSS, from /proc/PID/status) grows past `maxRssBytes`
 * (default 90% of the machine's memory, XRAYGPT_MODEL_MAX_RSS_MB) are killed with an error that
 * says which limit — a malformed GGUF must not spin or eat the machine.
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import type { Device } from "@xraygpt/protocol";
import type { ConditioningMode, FromHost, MultimodalPrompt, SamplingSettings, SoftPrompt, TextEngine, ToHost } from "./messages.js";
import type { ExpectedFindings } from "./consensus.js";
import { EngineError } from "../engine/errors.js";
import type { TokenFlags } from "../engine/tokens.js";

const HOST_MAIN = fileURLToPath(new URL("./host-main.js", import.meta.url));

export interface ModelProcessOptions {
  ggufPath: string;
  contextSize: number;
  device: "auto" | "cpu" | "gpu";
  /** CPU threads for llama.cpp. */
  threads: number;
  /** Names the model in errors and logs. */
  label: string;
  /** "soft-tokens" and "multimodal" load the GGUF through the project's addon (default "findings-text": node-llama-cpp). */
  mode?: ConditioningMode;
  /**
   * findings-text: "auto" (default, or XRAYGPT_TEXT_ENGINE) generates through the project's addon
   * when it is built (batched consensus), else node-llama-cpp; "node-llama-cpp" always the latter.
   */
  textEngine?: TextEngine;
  /** multimodal: the vision projector GGUF (libmtmd). */
  mmprojPath?: string;
  /** Longest a load may take (default: XRAYGPT_MODEL_LOAD_TIMEOUT_S seconds, else 120 s). */
  loadTimeoutMs?: number;
  /** Largest resident memory of the model process (default: XRAYGPT_MODEL_MAX_RSS_MB, else 90% of RAM). */
  maxRssBytes?: number;
  log?(line: string): void;
}

function envNumber(name: string): number | undefined {
  const v = Number(process.env[name]);
  return process.env[name] && Number.isFinite(v) && v > 0 ? v : undefined;
}

/** Resident set size of a process in bytes (Linux /proc), undefined where unreadable. */
export function rssBytes(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const RSS_POLL_MS = 250;

export interface LoadInfo {
  device: Device;
  gpuLayers: number;
  detail: string;
  loadMs: number;
}

export type GenerationDone = Extract<FromHost, { type: "done" }>;

export interface GenerationHooks {
  signal?: AbortSignal;
  onToken?(text: string, index: number, flags?: TokenFlags): void;
  /** Consensus decoding: candidates finished so far. */
  onCandidates?(done: number, total: number): void;
  expected?: ExpectedFindings;
}

function textEngineFromEnv(): TextEngine | undefined {
  const v = process.env.XRAYGPT_TEXT_ENGINE;
  return v === "auto" || v === "addon" || v === "node-llama-cpp" ? v : undefined;
}

interface Pending extends Pick<GenerationHooks, "onToken" | "onCandidates"> {
  resolve(d: GenerationDone): void;
  reject(e: Error): void;
}

export class ModelProcess {
  private child: ChildProcess | undefined;
  private loading: Promise<LoadInfo> | undefined;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail = "";
  info: LoadInfo | undefined;
  /** Number of times the process died unexpectedly. */
  crashes = 0;

  constructor(private readonly opts: ModelProcessOptions) {}

  get loaded(): boolean {
    return this.info !== undefined && this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Start the process and load the model, once; concurrent callers share the same load. */
  ensureLoaded(): Promise<LoadInfo> {
    if (this.loaded) return Promise.resolve(this.info!);
    this.loading ??= this.start().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private get loadTimeoutMs(): number {
    return this.opts.loadTimeoutMs ?? (envNumber("XRAYGPT_MODEL_LOAD_TIMEOUT_S") ?? 120) * 1000;
  }

  private get maxRssBytes(): number {
    return this.opts.maxRssBytes ?? (envNumber("XRAYGPT_MODEL_MAX_RSS_MB") ?? (totalmem() * 0.9) / 2 ** 20) * 2 ** 20;
  }

  /** Why the child was killed by a limit (set just before the kill), for the error messages. */
  private limitHit: string | undefined;
  private memoryTimer: NodeJS.Timeout | undefined;

  /** Polls the child's RSS; kills it above the cap. */
  private watchMemory(child: ChildProcess): NodeJS.Timeout {
    const cap = this.maxRssBytes;
    const timer = setInterval(() => {
      const rss = child.pid ? rssBytes(child.pid) : undefined;
      if (rss !== undefined && rss > cap && this.child === child) {
        this.limitHit = `its memory (RSS ${Math.round(rss / 2 ** 20)} MB) passed the limit of ${Math.round(cap / 2 ** 20)} MB (XRAYGPT_MODEL_MAX_RSS_MB); killed`;
        child.kill("SIGKILL");
      }
    }, RSS_POLL_MS);
    timer.unref();
    return timer;
  }

  private start(): Promise<LoadInfo> {
    return new Promise<LoadInfo>((resolve, reject) => {
      const child = fork(HOST_MAIN, [], { serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"] });
      this.child = child;
      this.limitHit = undefined;
      const memory = this.watchMemory(child);
      this.memoryTimer = memory;
      const loadMs = this.loadTimeoutMs;
      const loadTimer = setTimeout(() => {
        if (this.child !== child || settled) return;
        this.limitHit = `loading took longer than ${loadMs / 1000} s (XRAYGPT_MODEL_LOAD_TIMEOUT_S); killed`;
        child.kill("SIGKILL");
      }, loadMs);
      loadTimer.unref();
      this.stderrTail = "";
      child.stderr?.setEncoding("utf8");
      child.stderr?.on("data", (d: string) => {
        this.stderrTail = (this.stderrTail + d).slice(-2000);
      });
      let settled = false;
      child.on("message", (m: FromHost) => {
        if (m.type === "loaded") {
          settled = true;
          clearTimeout(loadTimer);
          this.info = { device: m.device, gpuLayers: m.gpuLayers, detail: m.detail, loadMs: m.loadMs };
          this.opts.log?.(`model ${this.opts.label}: loaded on ${m.detail} in ${m.loadMs.toFixed(0)} ms (pid ${child.pid})`);
          resolve(this.info);
        } else if (m.type === "loadFailed") {
          settled = true;
          clearTimeout(loadTimer);
          this.stop();
          reject(new EngineError("ModelUnavailable", `Model ${this.opts.label}: cannot load ${this.files}: ${m.message}`));
        } else this.onMessage(m);
      });
      child.on("exit", (code, signal) => {
        clearInterval(memory);
        clearTimeout(loadTimer);
        if (this.child !== child) return;
        this.child = undefined;
        this.info = undefined;
        const why = this.crashReason(code, signal);
        if (!settled) {
          settled = true;
          this.crashes++;
          reject(new EngineError("ModelUnavailable", `Model ${this.opts.label}: the model process died while loading ${this.files} (${why})`));
        } else if (code !== 0 || this.pending.size > 0) {
          this.crashes++;
          this.opts.log?.(`model ${this.opts.label}: model process exited (${why}); it restarts on next use`);
        }
        this.failPending(new EngineError("ModelCrashed", `Model ${this.opts.label}: the model process died (${why}); it restarts on the next request`));
      });
      const load: ToHost = { type: "load", ggufPath: this.opts.ggufPath, contextSize: this.opts.contextSize, device: this.opts.device, sequences: 1, threads: this.opts.threads, mode: this.opts.mode ?? "findings-text", textEngine: this.opts.textEngine ?? textEngineFromEnv() ?? "auto", ...(this.opts.mmprojPath ? { mmprojPath: this.opts.mmprojPath } : {}) };
      child.send(load);
    });
  }

  /** The files it loads, for messages. */
  private get files(): string {
    return this.opts.mmprojPath ? `${this.opts.ggufPath} with the projector ${this.opts.mmprojPath}` : this.opts.ggufPath;
  }

  private crashReason(code: number | null, signal: NodeJS.Signals | null): string {
    if (this.limitHit) return this.limitHit;
    const assert = /GGML_ASSERT[^\n]*|error[^\n]*/i.exec(this.stderrTail)?.[0];
    const base = signal ? `signal ${signal}` : `exit code ${code}`;
    return assert ? `${base}: ${assert.trim().slice(0, 300)}` : base;
  }

  private onMessage(m: FromHost): void {
    if (m.type === "token") {
      const flags = m.provisional || m.replace ? { ...(m.provisional ? { provisional: true } : {}), ...(m.replace ? { replace: true } : {}) } : undefined;
      this.pending.get(m.id)?.onToken?.(m.text, m.index, flags);
    } else if (m.type === "candidates") this.pending.get(m.id)?.onCandidates?.(m.done, m.total);
    else if (m.type === "done") {
      this.pending.get(m.id)?.resolve(m);
      this.pending.delete(m.id);
    } else if (m.type === "failed") {
      this.pending.get(m.id)?.reject(new EngineError("InvalidParams", `Model ${this.opts.label}: ${m.message}`));
      this.pending.delete(m.id);
    }
  }

  private failPending(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** `prompt`: the whole prompt text, or a soft-token / multimodal prompt (for a model loaded in that mode). */
  async generate(prompt: string | SoftPrompt | MultimodalPrompt, settings: SamplingSettings, stop: string[], hooks: GenerationHooks = {}): Promise<GenerationDone> {
    await this.ensureLoaded();
    const child = this.child!;
    const id = this.nextId++;
    return new Promise<GenerationDone>((resolve, reject) => {
      const onAbort = () => child.connected && child.send({ type: "cancel", id } satisfies ToHost);
      hooks.signal?.addEventListener("abort", onAbort, { once: true });
      const cleanup = () => hooks.signal?.removeEventListener("abort", onAbort);
      this.pending.set(id, {
        onToken: hooks.onToken,
        onCandidates: hooks.onCandidates,
        resolve: (d) => (cleanup(), resolve(d)),
        reject: (e) => (cleanup(), reject(e)),
      });
      const message: ToHost =
        typeof prompt === "string"
          ? { type: "generate", id, prompt, settings, stop, ...(hooks.expected ? { expected: hooks.expected } : {}) }
          : "messages" in prompt
            ? { type: "generateMultimodal", id, prompt, settings, stop }
            : { type: "generateSoft", id, prompt, settings, stop };
      child.send(message);
      if (hooks.signal?.aborted) onAbort();
    });
  }

  /** Kill the process (unload); pending generations fail. */
  stop(): void {
    const child = this.child;
    this.child = undefined;
    this.info = undefined;
    clearInterval(this.memoryTimer);
    if (child) {
      child.removeAllListeners("exit");
      child.kill();
    }
    this.failPending(new EngineError("ModelCrashed", `Model ${this.opts.label} was unloaded`));
  }
}

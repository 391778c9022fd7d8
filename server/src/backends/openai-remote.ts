/**
 * openai: a model served elsewhere by an OpenAI-compatible server (vLLM, llama-server, Ollama,
 * another `xraygpt serve --http`). The image is decoded and windowed here and sent as a PNG data
 * URL (never the file, never its tags) with the local findings line; text models ("completions")
 * get the manifest's raw prompt with the findings line and no image. Nothing is sent anywhere
 * unless a manifest names a server.
 *
 * Streaming (SSE), cancellation (the HTTP request is aborted), a timeout per request, and bounded
 * retries with backoff on 429 / 5xx / connection errors — only before any text was streamed to
 * a listener, so a retried request is never answered twice. Several baseUrls (endpoint-pool.ts): the least loaded
 * first, up to `maxConcurrency` each; one that fails is down for a doubling backoff and the request
 * moves to another at once (that is not a retry); when none is left up, a retry waits for the
 * first to come back, and the last error names every endpoint.
 */
import type { RemoteEndpointHealth, StopReason } from "@xraygpt/protocol";
import type { LoadedManifest, RemoteBackendSpec } from "../models/manifest.js";
import type { GenerationDone } from "../host/model-process.js";
import type { SamplingSettings } from "../host/messages.js";
import { followUpText, renderTemplate } from "../pipeline/condition.js";
import { EngineError } from "../engine/errors.js";
import type { AnalysedImage, Backend, BackendInfo, BackendOptions, GenerateHooks } from "./backend.js";
import { EndpointPool, REMOTE_MAX_CONCURRENCY, type Endpoint } from "./endpoint-pool.js";
import { sseData } from "./sse.js";

type ContentPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string | ContentPart[];
}
export type RemotePrompt = { messages: ChatMessage[] } | { text: string };

/** A failure worth another try (429, 5xx, connection error, timeout) while nothing was streamed. */
class Retryable extends Error {}

const STOP_REASONS: Record<string, StopReason> = { stop: "stop", length: "maxTokens", eos: "eos" };

export class OpenAIRemoteBackend implements Backend<RemotePrompt> {
  readonly imageSize: number | undefined;
  readonly parallel: number;
  info: BackendInfo | undefined;
  private readonly spec: RemoteBackendSpec;
  private readonly pool: EndpointPool;

  constructor(
    private readonly entry: LoadedManifest,
    opts?: Pick<BackendOptions, "onHealth">,
  ) {
    this.spec = entry.manifest.backend!;
    const perEndpoint = this.spec.maxConcurrency ?? REMOTE_MAX_CONCURRENCY;
    this.pool = new EndpointPool(this.spec.baseUrls, perEndpoint, opts?.onHealth);
    this.imageSize = this.api === "chat" ? (this.spec.imageSize ?? 1024) : undefined;
    this.parallel = perEndpoint * this.pool.endpoints.length;
  }

  endpoints(): RemoteEndpointHealth[] {
    return this.pool.health();
  }

  private get api(): "chat" | "completions" {
    return this.spec.api ?? "chat";
  }

  private get label(): string {
    return `Model ${this.entry.manifest.id}`;
  }

  async prepare(image: AnalysedImage): Promise<AnalysedImage> {
    return image;
  }

  firstTurn(image: AnalysedImage, prompt: string): RemotePrompt {
    const { manifest } = this.entry;
    const findings = image.findings.conditioningText;
    if (this.api === "completions") return { text: renderTemplate(manifest.prompt.template, { findings: findings ?? "", prompt }) };
    const content: ContentPart[] = [{ type: "image_url", image_url: { url: `data:image/png;base64,${Buffer.from(image.png!).toString("base64")}` } }];
    if (this.spec.sendFindings !== false) content.push({ type: "text", text: findings ? `${findings}\n\n${prompt}` : prompt });
    // A server that grounds on the image itself gets the question alone, and for the default instruction the image alone (its own summary).
    else if (prompt !== manifest.prompt.defaultPrompt) content.push({ type: "text", text: prompt });
    return { messages: [...(this.spec.system ? [{ role: "system" as const, content: this.spec.system }] : []), { role: "user", content }] };
  }

  nextTurn(previous: RemotePrompt, answer: string, message: string): RemotePrompt {
    if ("text" in previous) return { text: previous.text + followUpText(this.entry.manifest, answer, message) };
    return { messages: [...previous.messages, { role: "assistant", content: answer }, { role: "user", content: message }] };
  }

  checkSettings(settings: Required<SamplingSettings>): void {
    if (settings.candidates > 1) throw new EngineError("InvalidParams", `${this.label}: consensus decoding (candidates > 1) is available for local findings-text models only`);
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const name = this.spec.apiKeyEnv;
    if (name) {
      const key = process.env[name];
      if (!key) throw new EngineError("ModelUnavailable", `${this.label}: the environment variable ${name} (its API key) is not set`);
      headers.authorization = `Bearer ${key}`;
    }
    return headers;
  }

  /** Checks that an endpoint answers GET /models (those that do not are marked down). */
  async load(): Promise<void> {
    if (this.info) return;
    const headers = this.headers();
    const problems: string[] = [];
    for (const ep of this.pool.endpoints) {
      let problem: string;
      try {
        const res = await fetch(`${ep.url}/models`, { headers, signal: AbortSignal.timeout(Math.min(this.spec.timeoutMs ?? 120_000, 10_000)) });
        if (res.ok) {
          this.pool.succeeded(ep);
          this.info = { device: "remote", detail: `${this.spec.model} at ${this.pool.endpoints.map((e) => e.url).join(", ")} (OpenAI-compatible)` };
          return;
        }
        problem = `HTTP ${res.status} ${await errorMessage(res)}`;
      } catch (e) {
        problem = reason(e);
      }
      this.pool.failed(ep, problem);
      problems.push(`${ep.url}: ${problem}`);
    }
    throw new EngineError("ModelUnavailable", `${this.label}: no endpoint answers (${problems.join("; ")})`);
  }

  async unload(): Promise<void> {
    this.info = undefined;
  }

  private body(prompt: RemotePrompt, s: SamplingSettings): Record<string, unknown> {
    const stop = this.entry.manifest.prompt.stop.slice(0, 4);
    return {
      model: this.spec.model,
      ...("text" in prompt ? { prompt: prompt.text } : { messages: prompt.messages }),
      max_tokens: s.maxTokens,
      temperature: s.temperature,
      top_p: s.topP,
      seed: s.seed,
      ...(stop.length ? { stop } : {}),
      stream: true,
      stream_options: { include_usage: true },
    };
  }

  async generate(prompt: RemotePrompt, settings: SamplingSettings, hooks: GenerateHooks): Promise<GenerationDone> {
    const body = JSON.stringify(this.body(prompt, settings));
    const headers = this.headers();
    let retries = this.spec.retries ?? 2;
    const state = { text: "", tokens: 0 };
    /** Endpoints this try failed on, with why; cleared before each retry. */
    const failed = new Map<Endpoint, string>();
    let tries = 0;
    for (;;) {
      const ep = await this.pool.acquire(new Set(failed.keys()), hooks.signal);
      if (hooks.signal?.aborted) {
        if (ep) this.pool.release(ep);
        return this.done(state, "cancelled", undefined, 0, 0);
      }
      if (!ep) {
        if (retries-- <= 0) throw new EngineError("ModelUnavailable", `${this.label}: ${this.downMessage(failed, tries)}`);
        // Every endpoint is down: wait for the first to come back (at least the retry backoff). A
        // timer can fire a millisecond before Date.now() reaches the deadline: wait a little past it.
        await sleep(Math.max(250 * 2 ** Math.min(tries, 6) * (1 + Math.random()), this.pool.nextUpInMs() + 10), hooks.signal);
        failed.clear();
        continue;
      }
      tries++;
      try {
        const r = await this.once(ep, headers, body, hooks, state);
        this.pool.succeeded(ep);
        return r;
      } catch (e) {
        if (hooks.signal?.aborted) return this.done(state, "cancelled", undefined, 0, 0);
        if (!(e instanceof Retryable)) throw e;
        this.pool.failed(ep, e.message);
        if (state.tokens > 0) {
          // Text already streamed to a listener is never taken back; with no listener (a batch), start the answer again.
          if (hooks.onToken) throw new EngineError("ModelUnavailable", `${this.label}: ${ep.url}: ${e.message} (after part of the answer; not retried)`);
          Object.assign(state, { text: "", tokens: 0 });
        }
        failed.set(ep, e.message);
      } finally {
        this.pool.release(ep);
      }
    }
  }

  /** The error once no try is left: the endpoint (or every endpoint) and why. */
  private downMessage(failed: Map<Endpoint, string>, tries: number): string {
    const after = tries > 1 ? ` (after ${tries} tries)` : "";
    const all = this.pool.endpoints;
    if (all.length === 1) return `${all[0]!.url}: ${failed.get(all[0]!) ?? all[0]!.lastError ?? "down"}${after}`;
    return `every endpoint is down${after}: ${all.map((e) => `${e.url}: ${failed.get(e) ?? e.lastError ?? "down"}`).join("; ")}`;
  }

  private async once(ep: Endpoint, headers: Record<string, string>, body: string, hooks: GenerateHooks, state: { text: string; tokens: number }): Promise<GenerationDone> {
    const timeoutMs = this.spec.timeoutMs ?? 120_000;
    const ctrl = new AbortController();
    const onAbort = () => ctrl.abort();
    hooks.signal?.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => ((timedOut = true), ctrl.abort()), timeoutMs);
    const start = performance.now();
    let firstAt = 0;
    try {
      const res = await fetch(`${ep.url}/${this.api === "chat" ? "chat/completions" : "completions"}`, { method: "POST", headers, body, signal: ctrl.signal });
      if (!res.ok) {
        const message = `HTTP ${res.status} ${await errorMessage(res)}`;
        if (res.status === 429 || res.status >= 500) throw new Retryable(message);
        throw new EngineError(res.status === 400 || res.status === 413 ? "InvalidParams" : "ModelUnavailable", `${this.label}: ${ep.url}: ${message}`);
      }
      let finish: string | undefined;
      let usage: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } } | undefined;
      let ended = false;
      for await (const data of sseData(res.body!)) {
        if (data === "[DONE]") {
          ended = true;
          break;
        }
        const chunk = JSON.parse(data) as { choices?: { delta?: { content?: string }; text?: string; finish_reason?: string | null }[]; usage?: typeof usage; error?: { message?: string } };
        if (chunk.error) throw new EngineError("ModelUnavailable", `${this.label}: ${ep.url}: ${chunk.error.message ?? "error in the stream"}`);
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        const piece = choice?.delta?.content ?? choice?.text ?? "";
        if (piece) {
          firstAt ||= performance.now();
          const index = state.tokens++;
          hooks.onToken?.(piece, index);
          state.text += piece;
        }
        if (choice?.finish_reason) finish = choice.finish_reason;
      }
      if (!ended && !finish) throw new Retryable("the stream ended before the answer did");
      const promptMs = (firstAt || performance.now()) - start;
      return this.done(state, STOP_REASONS[finish ?? "stop"] ?? "stop", usage, promptMs, performance.now() - start - promptMs);
    } catch (e) {
      if (e instanceof EngineError || e instanceof Retryable) throw e;
      if (hooks.signal?.aborted) throw e;
      throw new Retryable(timedOut ? `no complete answer within ${timeoutMs} ms` : reason(e));
    } finally {
      clearTimeout(timer);
      hooks.signal?.removeEventListener("abort", onAbort);
    }
  }

  private done(state: { text: string; tokens: number }, stopReason: StopReason, usage: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } } | undefined, promptMs: number, generateMs: number): GenerationDone {
    const tokens = usage?.completion_tokens ?? state.tokens;
    return {
      type: "done",
      id: 0,
      text: state.text,
      stopReason,
      tokens,
      sampledTokens: tokens,
      candidates: 1,
      promptTokens: usage?.prompt_tokens ?? 0,
      reusedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
      promptMs,
      generateMs,
    };
  }
}

async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const m = (JSON.parse(text) as { error?: { message?: string } | string }).error;
    return typeof m === "string" ? m : (m?.message ?? text.slice(0, 200));
  } catch {
    return text.slice(0, 200);
  }
}

function reason(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ? `${err.cause.code} (${err.cause.message ?? err.message})` : err.message;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}

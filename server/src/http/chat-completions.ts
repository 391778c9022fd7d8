/**
 * POST /v1/chat/completions on the engine: the same pipeline as `summarize` / `chat`, the answer
 * as `choices[0].message.content` (or SSE chunks), and the radiology output only in the
 * `xraygpt` extension field (findings probabilities, the findings line, session, timings).
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { ChatResult, Findings, StopReason, SummarizeResult, Timings } from "@xraygpt/protocol";
import type { Engine, JobHooks, WithoutJob } from "../engine/types.js";
import { EngineError } from "../engine/errors.js";
import { answerOnly } from "../engine/tokens.js";
import { scanStops } from "../host/stop-strings.js";
import type { ChatRequest } from "./chat-request.js";
import { Conversations } from "./conversations.js";

/** The `xraygpt` extension field of a completion (the last chunk, when streamed). */
export interface XrayExtension {
  findings: { labels: Findings["labels"]; view?: Findings["view"]; line?: string };
  /** The engine's chat session this answer belongs to (multi-turn reuse). */
  sessionId?: string;
  model: { id: string; version: string; manifestHash: string };
  timings: Timings;
}

type Result = WithoutJob<SummarizeResult> | WithoutJob<ChatResult>;

/** Holds back text that may start one of the request's stop strings; cuts at the first one. */
class StopFilter {
  text = "";
  private sent = 0;
  stopped = false;

  constructor(
    private readonly stops: string[],
    private readonly emit: (t: string) => void,
    private readonly onStop: () => void,
  ) {}

  push(t: string): void {
    if (this.stopped) return;
    // Leading whitespace of the answer is not sent (the engine trims the text it returns).
    this.text = (this.text + t).replace(/^\s+/, "");
    const { stopAt, safeEnd } = scanStops(this.text, this.stops);
    if (stopAt >= 0) {
      this.text = this.text.slice(0, stopAt);
      this.stopped = true;
    }
    const end = this.stopped ? this.text.length : safeEnd;
    if (end > this.sent) this.emit(this.text.slice(this.sent, end));
    this.sent = Math.max(this.sent, end);
    if (this.stopped) this.onStop();
  }

  /** Whatever was held back, at the end of the answer. */
  flush(final: string): void {
    if (!this.stopped) this.text = final;
    if (this.text.length > this.sent) this.emit(this.text.slice(this.sent));
    this.sent = this.text.length;
  }
}

export class ChatCompletions {
  private readonly conversations = new Conversations();

  constructor(
    private readonly engine: Engine,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Runs the request on `image` (a local path), answering on `res`; `signal` fires when the client goes. */
  async handle(req: ChatRequest, image: string, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const job = new AbortController();
    signal.addEventListener("abort", () => job.abort(), { once: true });
    const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: req.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    let started = false;
    const start = () => {
      if (started || !req.stream) return;
      started = true;
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
      res.write(chunk({ role: "assistant", content: "" }, null));
    };
    const filter = new StopFilter(req.stop, (t) => req.stream && (start(), res.write(chunk({ content: t }, null))), () => job.abort());
    // The stream opens once the image is read and the job is queued or running, so a bad
    // request still gets its HTTP status and a queued one its headers.
    const hooks: JobHooks = { signal: job.signal, onToken: answerOnly((t) => filter.push(t)), onProgress: (p) => ["queued", "loading", "generate"].includes(p.stage) && start() };
    const result = await this.run(req, image, hooks);
    if (signal.aborted) {
      this.log(`http client went away: its job was cancelled after ${result.timings.tokens} tokens`);
      return void res.destroy();
    }
    filter.flush(result.text);
    const finish = finishReason(filter.stopped ? "stop" : result.stopReason);
    const xraygpt = extension(result);
    const t = result.timings;
    const usage = { prompt_tokens: t.promptTokens, completion_tokens: t.tokens, total_tokens: t.promptTokens + t.tokens, prompt_tokens_details: { cached_tokens: t.cachedPromptTokens } };
    if (req.stream) {
      start();
      res.write(chunk({}, finish, { xraygpt }));
      if (req.includeUsage) res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: req.model, choices: [], usage })}\n\n`);
      res.end("data: [DONE]\n\n");
    } else {
      const body = { id, object: "chat.completion", created, model: req.model, choices: [{ index: 0, message: { role: "assistant", content: filter.text }, finish_reason: finish }], usage, xraygpt };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    }
  }

  /** A first question without text is a summary; otherwise a chat turn, continuing a known session. */
  private async run(req: ChatRequest, image: string, hooks: JobHooks): Promise<Result> {
    const last = req.turns.at(-1)!;
    if (req.turns.length === 1 && !last.message) return this.engine.summarize({ image, model: req.model, generation: req.generation }, hooks);
    const history = req.turns.slice(0, -1).map((t) => ({ message: t.message, answer: t.answer! }));
    const sessionId = history.length ? this.conversations.take(Conversations.key(req.model, req.imageUrl, history)) : undefined;
    let r: WithoutJob<ChatResult>;
    try {
      r = await this.engine.chat({ image, model: req.model, message: last.message, generation: req.generation, ...(sessionId ? { sessionId } : { history }) }, hooks);
    } catch (e) {
      if (!(sessionId && e instanceof EngineError && e.kind === "UnknownSession")) throw e;
      r = await this.engine.chat({ image, model: req.model, message: last.message, generation: req.generation, history }, hooks);
    }
    if (r.stopReason !== "cancelled") this.conversations.put(Conversations.key(req.model, req.imageUrl, [...history, { message: last.message, answer: r.text }]), r.sessionId);
    return r;
  }
}

function finishReason(s: StopReason): "stop" | "length" {
  return s === "maxTokens" ? "length" : "stop";
}

function extension(r: Result): XrayExtension {
  const { labels, view, conditioningText } = r.findings;
  return {
    findings: { labels, ...(view ? { view } : {}), ...(conditioningText ? { line: conditioningText } : {}) },
    ...("sessionId" in r ? { sessionId: r.sessionId } : {}),
    model: r.model,
    timings: r.timings,
  };
}

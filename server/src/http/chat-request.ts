/** The body of POST /v1/chat/completions → what the engine needs; every problem a 400 naming the field. */
import type { GenerationSettings } from "@xraygpt/protocol";
import { ApiError } from "./api-error.js";

export interface Turn {
  message: string;
  /** The assistant's answer that followed (every turn but the last). */
  answer?: string;
}

export interface ChatRequest {
  model: string;
  imageUrl: string;
  /** User turns, oldest first; the last one is the question to answer. */
  turns: Turn[];
  generation: GenerationSettings;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
}

type Part = { type?: unknown; text?: unknown; image_url?: unknown };

function bad(message: string, code = "invalid_value"): ApiError {
  return new ApiError(400, message, code);
}

function optionalNumber(body: Record<string, unknown>, name: string): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw bad(`${name} must be a number`);
  return v;
}

/** A message's text and the image URL of its image_url part, if any. */
function content(c: unknown, where: string): { text: string; image?: string } {
  if (typeof c === "string") return { text: c };
  if (!Array.isArray(c)) throw bad(`${where}.content must be a string or an array of content parts`);
  const texts: string[] = [];
  let image: string | undefined;
  c.forEach((p: Part, i) => {
    if (p?.type === "text" && typeof p.text === "string") texts.push(p.text);
    else if (p?.type === "image_url") {
      const iu = p.image_url as { url?: unknown } | string | undefined;
      const url = typeof iu === "string" ? iu : iu?.url;
      if (typeof url !== "string") throw bad(`${where}.content[${i}].image_url.url must be a string`);
      if (image !== undefined && image !== url) throw bad("one image per conversation: this model reads a single radiograph");
      image = url;
    } else throw bad(`${where}.content[${i}] must be a text or image_url part (got ${JSON.stringify(p?.type)})`);
  });
  return { text: texts.join("\n"), ...(image !== undefined ? { image } : {}) };
}

export function parseChatRequest(body: unknown): ChatRequest {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw bad("the request body must be a JSON object");
  const b = body as Record<string, unknown>;
  if (typeof b.model !== "string" || !b.model) throw bad("model is required", "missing_model");
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw bad("messages must be a non-empty array", "missing_messages");
  if (b.n !== undefined && b.n !== null && b.n !== 1) throw bad("n must be 1");
  const turns: Turn[] = [];
  let imageUrl: string | undefined;
  b.messages.forEach((m: { role?: unknown; content?: unknown }, i) => {
    const where = `messages[${i}]`;
    if (m?.role === "system" || m?.role === "developer") return; // the model's own prompt template takes their place
    if (m?.role !== "user" && m?.role !== "assistant") throw bad(`${where}.role must be system, user or assistant`);
    const c = content(m.content, where);
    if (c.image !== undefined) {
      if (m.role !== "user") throw bad(`${where}: images go in user messages`);
      if (imageUrl !== undefined && imageUrl !== c.image) throw bad("one image per conversation: this model reads a single radiograph");
      imageUrl = c.image;
    }
    if (m.role === "user") {
      const last = turns.at(-1);
      if (last && last.answer === undefined) last.message = `${last.message}\n${c.text}`.trim();
      else turns.push({ message: c.text.trim() });
    } else {
      const last = turns.at(-1);
      if (!last || last.answer !== undefined) throw bad(`${where}: an assistant message must follow a user message`);
      last.answer = c.text;
    }
  });
  if (!imageUrl) throw bad("the conversation needs a radiograph: an image_url content part in a user message", "missing_image");
  if (turns.length === 0 || turns.at(-1)!.answer !== undefined) throw bad("the last message must be the user's");
  if (turns.length > 1 && turns.some((t) => !t.message)) throw bad("every user message of a multi-turn chat needs text");
  const stop = b.stop === undefined || b.stop === null ? [] : typeof b.stop === "string" ? [b.stop] : b.stop;
  if (!Array.isArray(stop) || stop.length > 4 || !stop.every((s) => typeof s === "string" && s.length > 0)) throw bad("stop must be a string or up to 4 non-empty strings");
  const maxTokens = optionalNumber(b, "max_completion_tokens") ?? optionalNumber(b, "max_tokens");
  const temperature = optionalNumber(b, "temperature");
  const topP = optionalNumber(b, "top_p");
  const seed = optionalNumber(b, "seed");
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw bad("top_p must be in (0, 1]");
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0)) throw bad("seed must be a non-negative integer");
  const generation: GenerationSettings = {
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(topP !== undefined ? { topP } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== "boolean") throw bad("stream must be a boolean");
  const includeUsage = !!(b.stream_options as { include_usage?: unknown } | undefined)?.include_usage;
  return { model: b.model, imageUrl, turns, generation, stop: stop as string[], stream: b.stream === true, includeUsage };
}

/**
 * Messages from the webviews, validated before the extension acts on them: anything that is not
 * exactly one of these shapes is rejected with a reason.
 */

export type ViewerMessage = { type: "ready" } | { type: "summarize" } | { type: "heatmap"; finding: string };

export type ChatMessage =
  | { type: "ready" }
  | { type: "ask"; text: string }
  | { type: "stop" }
  | { type: "clear" }
  | { type: "insert"; index: number };

export type Parsed<T> = { ok: true; message: T } | { ok: false; reason: string };

export const MAX_QUESTION_CHARS = 4000;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function exactKeys(m: Record<string, unknown>, keys: string[]): string | undefined {
  const extra = Object.keys(m).filter((k) => !keys.includes(k));
  return extra.length ? `unexpected field(s) ${extra.join(", ")}` : undefined;
}

function bare<T>(m: Record<string, unknown>): Parsed<T> {
  const extra = exactKeys(m, ["type"]);
  return extra ? { ok: false, reason: extra } : { ok: true, message: m as T };
}

export function parseViewerMessage(x: unknown): Parsed<ViewerMessage> {
  if (!isRecord(x) || typeof x.type !== "string") return { ok: false, reason: "not a message object with a type" };
  switch (x.type) {
    case "ready":
    case "summarize":
      return bare(x);
    case "heatmap": {
      const extra = exactKeys(x, ["type", "finding"]);
      if (extra) return { ok: false, reason: extra };
      if (typeof x.finding !== "string" || !x.finding || x.finding.length > 100) return { ok: false, reason: "heatmap.finding must be a finding name" };
      return { ok: true, message: { type: "heatmap", finding: x.finding } };
    }
    default:
      return { ok: false, reason: `unknown message type "${x.type.slice(0, 40)}"` };
  }
}

export function parseChatMessage(x: unknown): Parsed<ChatMessage> {
  if (!isRecord(x) || typeof x.type !== "string") return { ok: false, reason: "not a message object with a type" };
  switch (x.type) {
    case "ready":
    case "stop":
    case "clear":
      return bare(x);
    case "ask": {
      const extra = exactKeys(x, ["type", "text"]);
      if (extra) return { ok: false, reason: extra };
      if (typeof x.text !== "string") return { ok: false, reason: "ask.text must be a string" };
      const text = x.text.trim();
      if (!text) return { ok: false, reason: "ask.text is empty" };
      if (text.length > MAX_QUESTION_CHARS) return { ok: false, reason: `ask.text is longer than ${MAX_QUESTION_CHARS} characters` };
      return { ok: true, message: { type: "ask", text } };
    }
    case "insert": {
      const extra = exactKeys(x, ["type", "index"]);
      if (extra) return { ok: false, reason: extra };
      if (typeof x.index !== "number" || !Number.isInteger(x.index) || x.index < 0) return { ok: false, reason: "insert.index must be a non-negative integer" };
      return { ok: true, message: { type: "insert", index: x.index } };
    }
    default:
      return { ok: false, reason: `unknown message type "${x.type.slice(0, 40)}"` };
  }
}

export type EvaluationMessage = { type: "ready" } | { type: "open"; file: "predictions" | "references" };

export function parseEvaluationMessage(x: unknown): Parsed<EvaluationMessage> {
  if (!isRecord(x) || typeof x.type !== "string") return { ok: false, reason: "not a message object with a type" };
  switch (x.type) {
    case "ready":
      return bare(x);
    case "open": {
      const extra = exactKeys(x, ["type", "file"]);
      if (extra) return { ok: false, reason: extra };
      if (x.file !== "predictions" && x.file !== "references") return { ok: false, reason: 'open.file must be "predictions" or "references"' };
      return { ok: true, message: { type: "open", file: x.file } };
    }
    default:
      return { ok: false, reason: `unknown message type "${x.type.slice(0, 40)}"` };
  }
}

/**
 * Multi-turn chat over a stateless API: each answer's conversation so far (model, image, turns)
 * is hashed to the engine's chat session, so the next request that repeats it continues that
 * session (its KV cache) instead of starting again. A conversation it does not know (expired,
 * another server) starts a new session from the history as the client sent it.
 */
import { createHash } from "node:crypto";
import type { Turn } from "./chat-request.js";

const MAX = 256;

export class Conversations {
  private byKey = new Map<string, string>();

  static key(model: string, imageUrl: string, turns: readonly Turn[]): string {
    const h = createHash("sha256").update(model).update("\0").update(createHash("sha256").update(imageUrl).digest());
    for (const t of turns) h.update("\0").update(t.message).update("\0").update(t.answer ?? "");
    return h.digest("hex");
  }

  /** The session holding exactly this conversation, taken out (it moves on with the next turn). */
  take(key: string): string | undefined {
    const s = this.byKey.get(key);
    this.byKey.delete(key);
    return s;
  }

  put(key: string, sessionId: string): void {
    this.byKey.set(key, sessionId);
    if (this.byKey.size > MAX) this.byKey.delete(this.byKey.keys().next().value!);
  }
}

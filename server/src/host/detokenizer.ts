/**
 * Incremental detokenization for streaming: each new token is turned into text with the few
 * tokens before it as context (SentencePiece spacing), holding back tokens that end inside a
 * multi-byte character. O(1) per token, and the concatenation equals detokenizing everything.
 */
import type { LlamaModel, Token } from "node-llama-cpp";

const CONTEXT = 4;
/** Longest UTF-8 sequence split over byte tokens, with margin. */
const MAX_PENDING = 8;

export class Detokenizer {
  private tokens: Token[] = [];
  /** tokens[0 .. settled) are already text. */
  private settled = 0;

  constructor(private readonly model: Pick<LlamaModel, "detokenize">) {}

  private pending(): string {
    return this.model.detokenize(this.tokens.slice(this.settled), false, this.tokens.slice(Math.max(0, this.settled - CONTEXT), this.settled));
  }

  /** Text completed by this token ("" while a character is still incomplete). */
  push(token: Token): string {
    this.tokens.push(token);
    const piece = this.pending();
    if (piece.endsWith("\uFFFD") && this.tokens.length - this.settled < MAX_PENDING) return "";
    this.settled = this.tokens.length;
    return piece;
  }

  /** Whatever is still held back (at the end of generation). */
  flush(): string {
    if (this.settled === this.tokens.length) return "";
    const piece = this.pending();
    this.settled = this.tokens.length;
    return piece;
  }
}

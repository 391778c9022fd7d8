/** Errors the engine raises; `kind` maps to a protocol error code. */
import { ErrorCodes, type ErrorKind } from "@xraygpt/protocol";

export class EngineError extends Error {
  override name = "EngineError";
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
  get code(): number {
    return ErrorCodes[this.kind];
  }
}

/** Any error → (kind, message) for the wire; unknown errors keep their message. */
export function describeError(e: unknown): { kind: ErrorKind; message: string; file?: string } {
  if (e instanceof EngineError) return { kind: e.kind, message: e.message, file: e.file };
  const err = e as { kind?: string; message?: string; file?: string };
  if (err && typeof err.kind === "string" && err.kind in ErrorCodes) return { kind: err.kind as ErrorKind, message: String(err.message), file: err.file };
  return { kind: "Internal", message: err?.message ?? String(e) };
}

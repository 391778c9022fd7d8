/**
 * Request-handler plumbing for daemon modules that register their own requests: params checked
 * against a spec, errors mapped to protocol error codes, one log line per request, and the
 * JSON-RPC cancellation token as an AbortSignal. A request is cancelled when its client cancels it or
 * when the client's connection ends.
 */
import { CancellationTokenSource, ResponseError, type CancellationToken } from "vscode-languageserver/node.js";
import { ErrorCodes, type ErrorData } from "@xraygpt/protocol";
import { describeError } from "../engine/errors.js";
import { checkParams, type ParamSpec } from "./params.js";

export type Log = (line: string) => void;

export function toResponseError(e: unknown): ResponseError<ErrorData> {
  const d = describeError(e);
  return new ResponseError<ErrorData>(ErrorCodes[d.kind], d.message, { kind: d.kind, ...(d.file ? { file: d.file } : {}) });
}

/** An AbortSignal that aborts when the request is cancelled (`$/cancelRequest`). */
export function abortSignal(token: CancellationToken): AbortSignal {
  const ac = new AbortController();
  if (token.isCancellationRequested) ac.abort();
  token.onCancellationRequested(() => ac.abort());
  return ac.signal;
}

export type Handler<P, R> = (params: P, token: CancellationToken) => Promise<R | ResponseError<ErrorData>>;

/**
 * Wraps `fn`: checks params against `spec`, logs the outcome, turns thrown errors into ResponseErrors;
 * `fn`'s token is also cancelled when `ended` (the connection's end) aborts.
 */
export function makeHandler(log: Log, ended?: AbortSignal) {
  return <P, R>(method: string, spec: ParamSpec, fn: (params: P, token: CancellationToken) => Promise<R>): Handler<P, R> =>
    async (params, token) => {
      const t0 = performance.now();
      const source = new CancellationTokenSource();
      const cancel = () => source.cancel();
      const sub = token.onCancellationRequested(cancel);
      ended?.addEventListener("abort", cancel);
      if (token.isCancellationRequested || ended?.aborted) cancel();
      try {
        checkParams(method, params, spec);
        const result = await fn(params, source.token);
        log(`${method} ok in ${(performance.now() - t0).toFixed(0)} ms`);
        return result;
      } catch (e) {
        const err = toResponseError(e);
        log(`${method} failed (${err.data?.kind}): ${err.message}`);
        return err;
      } finally {
        sub.dispose();
        ended?.removeEventListener("abort", cancel);
        source.dispose();
      }
    };
}

/** Test helper: a summary whose job is cancelled once `n` token chunks have streamed. */
import type { XrayEngine } from "../engine/engine.js";

export async function summarizeCancelledAfter(engine: XrayEngine, params: Parameters<XrayEngine["summarize"]>[0], n: number) {
  const ac = new AbortController();
  let streamed = "";
  let tokens = 0;
  const result = await engine.summarize(params, {
    signal: ac.signal,
    onToken: (t) => {
      streamed += t;
      if (++tokens === n) ac.abort();
    },
  });
  return { result, streamed };
}

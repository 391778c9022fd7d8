/**
 * The model process's soft-token side (conditioning "soft-tokens"): loads the GGUF through the
 * project's llama.cpp addon (SoftTokenGenerator) instead of node-llama-cpp, and runs generations
 * whose prompt splices the image's soft tokens between two texts. The generator keeps what it
 * decoded, so a chat turn re-uses the KV cache of the image and the earlier turns.
 */
import { SoftTokenGenerator } from "../softtoken/generator.js";
import type { FromHost, ToHost } from "./messages.js";

let generator: SoftTokenGenerator | undefined;
const running = new Map<number, AbortController>();

export async function loadSoft(m: Extract<ToHost, { type: "load" }>): Promise<Extract<FromHost, { type: "loaded" }>> {
  const t0 = performance.now();
  const g = new SoftTokenGenerator();
  const cpu = m.device === "cpu";
  await g.load(m.ggufPath, { gpu: !cpu, gpuLayers: cpu ? 0 : "auto", contextSize: m.contextSize, sequences: m.sequences, threads: m.threads });
  generator = g;
  return {
    type: "loaded",
    device: g.device,
    gpuLayers: g.gpuLayers,
    detail: `${g.device === "cpu" ? "CPU" : `${g.device} (${g.gpuLayers} layers offloaded)`}, soft-token addon`,
    loadMs: performance.now() - t0,
  };
}

/** Cancels a running soft-token generation (a no-op for other ids). */
export function cancelSoft(id: number): void {
  running.get(id)?.abort();
}

export async function generateSoft(m: Extract<ToHost, { type: "generateSoft" }>, send: (m: FromHost) => void, cancelledEarly: boolean): Promise<void> {
  if (!generator) return send({ type: "failed", id: m.id, message: "model not loaded" });
  const ac = new AbortController();
  if (cancelledEarly) ac.abort();
  running.set(m.id, ac);
  try {
    const r = await generator.generate({
      ...m.prompt,
      settings: m.settings,
      stop: m.stop,
      signal: ac.signal,
      onToken: (text, index) => send({ type: "token", id: m.id, text, index }),
    });
    send({
      type: "done",
      id: m.id,
      text: r.text,
      stopReason: r.stopReason,
      tokens: r.tokens,
      sampledTokens: r.tokens,
      candidates: 1,
      promptTokens: r.promptTokens,
      reusedTokens: r.reusedTokens,
      promptMs: r.promptMs,
      generateMs: r.generateMs,
    });
  } finally {
    running.delete(m.id);
  }
}

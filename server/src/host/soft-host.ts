/**
 * The model process's addon side (conditioning "soft-tokens" and "multimodal"): loads the GGUF
 * through the project's llama.cpp addon (SoftTokenGenerator) instead of node-llama-cpp, and runs
 * generations whose prompt splices the image's soft tokens between two texts, or (multimodal)
 * whose chat messages, put into the GGUF's own chat template, hold an image that the model's
 * projector (mmproj, llama.cpp's libmtmd) encodes. The generator keeps what it decoded, so a chat
 * turn re-uses the KV cache of the image and the earlier turns.
 */
import { SoftTokenGenerator } from "../softtoken/generator.js";
import { STREAM_INTERVAL_MS, type FromHost, type MultimodalPrompt, type ToHost } from "./messages.js";

let generator: SoftTokenGenerator | undefined;
const running = new Map<number, AbortController>();

export async function loadSoft(m: Extract<ToHost, { type: "load" }>): Promise<Extract<FromHost, { type: "loaded" }>> {
  const t0 = performance.now();
  const g = new SoftTokenGenerator();
  const cpu = m.device === "cpu";
  await g.load(m.ggufPath, { gpu: !cpu, gpuLayers: cpu ? 0 : "auto", contextSize: m.contextSize, sequences: m.sequences, threads: m.threads });
  if (m.mmprojPath) {
    try {
      g.attachProjector(m.mmprojPath, { useGpu: !cpu && g.device !== "cpu", threads: m.threads });
    } catch (e) {
      await g.dispose();
      throw e;
    }
  }
  generator = g;
  return {
    type: "loaded",
    device: g.device,
    gpuLayers: g.gpuLayers,
    detail: `${g.device === "cpu" ? "CPU" : `${g.device} (${g.gpuLayers} layers offloaded)`}, ${m.mmprojPath ? "multimodal (libmtmd)" : "soft-token addon"}`,
    loadMs: performance.now() - t0,
  };
}

/** Text pieces sent on together at most every STREAM_INTERVAL_MS (flush() sends the rest). */
function throttled(sendText: (text: string, index: number) => void): { push(text: string, index: number): void; flush(): void } {
  let pending = "";
  let last = 0;
  let lastSent = 0;
  const flush = () => {
    if (pending) sendText(pending, last);
    pending = "";
    lastSent = performance.now();
  };
  return {
    push(text, index) {
      pending += text;
      last = index;
      if (performance.now() - lastSent >= STREAM_INTERVAL_MS) flush();
    },
    flush,
  };
}

/** Cancels a running soft-token generation (a no-op for other ids). */
export function cancelSoft(id: number): void {
  running.get(id)?.abort();
}

/** The prompt text of a multimodal prompt: its messages in the GGUF's chat template, mtmd's marker where the image goes. */
function multimodalText(g: SoftTokenGenerator, prompt: MultimodalPrompt): string {
  const marker = g.mediaMarker;
  const clean = (t: string) => t.split(marker).join(""); // the user's text cannot add images
  const messages = prompt.messages.map((msg) => ({ role: msg.role, content: typeof msg.content === "string" ? clean(msg.content) : clean(msg.content[0]) + marker + clean(msg.content[1]) }));
  return g.applyChatTemplate(messages);
}

export async function generateSoft(m: Extract<ToHost, { type: "generateSoft" | "generateMultimodal" }>, send: (m: FromHost) => void, cancelledEarly: boolean): Promise<void> {
  if (!generator) return send({ type: "failed", id: m.id, message: "model not loaded" });
  const g = generator;
  const ac = new AbortController();
  if (cancelledEarly) ac.abort();
  running.set(m.id, ac);
  try {
    const stream = throttled((text, index) => send({ type: "token", id: m.id, text, index }));
    const common = { settings: m.settings, stop: m.stop, signal: ac.signal, onToken: stream.push };
    const r = m.type === "generateSoft" ? await g.generate({ ...m.prompt, ...common }) : await g.generateMultimodal({ text: multimodalText(g, m.prompt), images: [m.prompt.image], ...common });
    stream.flush();
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

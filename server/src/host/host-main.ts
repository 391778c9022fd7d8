/**
 * The model process: loads one GGUF with node-llama-cpp (never building or downloading
 * llama.cpp) and runs generations one at a time, streaming tokens back over IPC. It runs in its
 * own process because a malformed GGUF can abort the process it is loaded in (GGML_ASSERT).
 * Soft-token models (load mode "soft-tokens") go through the project's addon instead: soft-host.ts.
 */
import { getLlama, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from "node-llama-cpp";
import type { Device } from "@xraygpt/protocol";
import type { FromHost, ToHost } from "./messages.js";
import { scanStops } from "./stop-strings.js";
import { Detokenizer } from "./detokenizer.js";
import { cancelSoft, generateSoft, loadSoft } from "./soft-host.js";

let llama: Llama | undefined;
let model: LlamaModel | undefined;
let context: LlamaContext | undefined;
let sequence: LlamaContextSequence | undefined;
const cancelled = new Set<number>();
let chain: Promise<void> = Promise.resolve();
const STREAM_INTERVAL_MS = 8;

function send(m: FromHost): void {
  process.send?.(m);
}

async function load(m: Extract<ToHost, { type: "load" }>): Promise<void> {
  const t0 = performance.now();
  try {
    if (m.mode === "soft-tokens") return send(await loadSoft(m));
    llama = await getLlama({ gpu: m.device === "cpu" ? false : "auto", build: "never", progressLogs: false, logLevel: "error" as never });
    model = await llama.loadModel({ modelPath: m.ggufPath, gpuLayers: m.device === "cpu" ? 0 : "auto" });
    context = await model.createContext({ contextSize: Math.min(m.contextSize, model.trainContextSize), sequences: 1, threads: m.threads });
    sequence = context.getSequence();
    const device: Device = llama.gpu === false || model.gpuLayers === 0 ? "cpu" : (llama.gpu as Device);
    send({
      type: "loaded",
      device,
      gpuLayers: model.gpuLayers,
      detail: `${device === "cpu" ? "CPU" : `${llama.gpu} (${model.gpuLayers} layers offloaded)`}, llama.cpp ${llama.buildType}`,
      loadMs: performance.now() - t0,
    });
  } catch (e) {
    send({ type: "loadFailed", message: (e as Error).message });
  }
}

async function generate(m: Extract<ToHost, { type: "generate" }>): Promise<void> {
  if (!model || !sequence) return send({ type: "failed", id: m.id, message: "model not loaded" });
  const t0 = performance.now();
  const bos = model.tokens.bos;
  const prompt: Token[] = [...(bos !== null && model.tokens.shouldPrependBosToken ? [bos] : []), ...model.tokenize(m.prompt)];
  const room = sequence.context.contextSize - prompt.length;
  if (room < 2) return send({ type: "failed", id: m.id, message: `the prompt (${prompt.length} tokens) does not fit the context (${sequence.context.contextSize} tokens)` });
  // Reuse the cached prefix (earlier chat turns); keep at least one token to evaluate for logits.
  await sequence.adaptStateToTokens(prompt, false);
  if (sequence.nextTokenIndex >= prompt.length) await sequence.eraseContextTokenRanges([{ start: prompt.length - 1, end: sequence.nextTokenIndex }]);
  const reusedTokens = sequence.nextTokenIndex;
  const { settings } = m;
  const maxTokens = Math.min(settings.maxTokens, room - 1);
  const generated: Token[] = [];
  let emitted = 0;
  let text = "";
  const detokenizer = new Detokenizer(model);
  let lastSend = 0;
  let stopReason: "eos" | "stop" | "maxTokens" | "cancelled" = "maxTokens";
  let promptMs = 0;
  const iterator = sequence.evaluate(prompt.slice(reusedTokens), {
    temperature: settings.temperature,
    topK: settings.topK,
    topP: settings.topP,
    seed: settings.seed,
    repeatPenalty: settings.repeatPenalty !== 1 ? { punishTokens: () => generated.slice(-64), penalty: settings.repeatPenalty } : undefined,
  });
  try {
    for await (const token of iterator) {
      if (generated.length === 0) promptMs = performance.now() - t0;
      if (cancelled.has(m.id)) {
        stopReason = "cancelled";
        break;
      }
      if (model.isEogToken(token)) {
        stopReason = "eos";
        break;
      }
      generated.push(token);
      text += detokenizer.push(token);
      const scan = scanStops(text, m.stop);
      const end = scan.stopAt >= 0 ? scan.stopAt : scan.safeEnd;
      // Stream in messages at most every STREAM_INTERVAL_MS: one IPC message per token would
      // cost more than a small model takes to generate it.
      const now = performance.now();
      if (end > emitted && (now - lastSend >= STREAM_INTERVAL_MS || scan.stopAt >= 0)) {
        send({ type: "token", id: m.id, text: text.slice(emitted, end), index: generated.length });
        emitted = end;
        lastSend = now;
      }
      if (scan.stopAt >= 0) {
        text = text.slice(0, scan.stopAt);
        stopReason = "stop";
        break;
      }
      if (generated.length >= maxTokens) break;
    }
    // The generator can also end on its own (end of generation): that is an end of sequence.
    if (stopReason === "maxTokens" && generated.length < maxTokens) stopReason = "eos";
  } finally {
    await iterator.return();
    cancelled.delete(m.id);
  }
  if (stopReason !== "stop") text += detokenizer.flush();
  if (emitted < text.length) send({ type: "token", id: m.id, text: text.slice(emitted), index: generated.length });
  send({
    type: "done",
    id: m.id,
    text,
    stopReason,
    tokens: generated.length,
    promptTokens: prompt.length,
    reusedTokens,
    promptMs,
    generateMs: performance.now() - t0 - promptMs,
  });
}

process.on("message", (m: ToHost) => {
  if (m.type === "cancel") {
    cancelled.add(m.id);
    cancelSoft(m.id);
    return;
  }
  const run =
    m.type === "load"
      ? () => load(m)
      : m.type === "generate"
        ? () => generate(m)
        : () => generateSoft(m, send, cancelled.has(m.id)).finally(() => cancelled.delete(m.id));
  chain = chain.then(run).catch((e: Error) => {
    if (m.type !== "load") send({ type: "failed", id: m.id, message: e.message });
    else send({ type: "loadFailed", message: e.message });
  });
});
process.on("disconnect", () => process.exit(0));

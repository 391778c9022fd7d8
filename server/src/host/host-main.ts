/**
 * The model process: loads one GGUF with node-llama-cpp (never building or downloading
 * llama.cpp) and runs generations one at a time, streaming tokens back over IPC. It runs in its
 * own process because a malformed GGUF can abort the process it is loaded in (GGML_ASSERT).
 * Soft-token and multimodal models (load modes "soft-tokens", "multimodal") go through the project's addon instead: soft-host.ts.
 */
import { getLlama, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from "node-llama-cpp";
import type { Device } from "@xraygpt/protocol";
import type { FromHost, SamplingSettings, ToHost } from "./messages.js";
import { chooseCandidate } from "./consensus.js";
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
    if (m.mode === "soft-tokens" || m.mode === "multimodal") return send(await loadSoft(m));
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

interface Sampled {
  text: string;
  tokens: number;
  stopReason: "eos" | "stop" | "maxTokens" | "cancelled";
  reusedTokens: number;
  promptMs: number;
}

/**
 * One generation from `prompt` (the cached prefix is reused). `onText` receives the text as it
 * becomes safe to release (no partial stop string), at most every STREAM_INTERVAL_MS.
 */
async function sampleOnce(id: number, prompt: Token[], settings: SamplingSettings, stop: string[], maxTokens: number, onText?: (text: string, index: number) => void): Promise<Sampled> {
  const t0 = performance.now();
  // Reuse the cached prefix (earlier chat turns); keep at least one token to evaluate for logits.
  await sequence!.adaptStateToTokens(prompt, false);
  if (sequence!.nextTokenIndex >= prompt.length) await sequence!.eraseContextTokenRanges([{ start: prompt.length - 1, end: sequence!.nextTokenIndex }]);
  const reusedTokens = sequence!.nextTokenIndex;
  const generated: Token[] = [];
  let emitted = 0;
  let text = "";
  const detokenizer = new Detokenizer(model!);
  let lastSend = 0;
  let stopReason: Sampled["stopReason"] = "maxTokens";
  let promptMs = 0;
  const iterator = sequence!.evaluate(prompt.slice(reusedTokens), {
    temperature: settings.temperature,
    topK: settings.topK,
    topP: settings.topP,
    seed: settings.seed,
    repeatPenalty: settings.repeatPenalty !== 1 ? { punishTokens: () => generated.slice(-64), penalty: settings.repeatPenalty } : undefined,
  });
  try {
    for await (const token of iterator) {
      if (generated.length === 0) promptMs = performance.now() - t0;
      if (cancelled.has(id)) {
        stopReason = "cancelled";
        break;
      }
      if (model!.isEogToken(token)) {
        stopReason = "eos";
        break;
      }
      generated.push(token);
      text += detokenizer.push(token);
      const scan = scanStops(text, stop);
      const end = scan.stopAt >= 0 ? scan.stopAt : scan.safeEnd;
      // Stream in messages at most every STREAM_INTERVAL_MS: one IPC message per token would
      // cost more than a small model takes to generate it.
      const now = performance.now();
      if (onText && end > emitted && (now - lastSend >= STREAM_INTERVAL_MS || scan.stopAt >= 0)) {
        onText(text.slice(emitted, end), generated.length);
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
  }
  if (stopReason !== "stop") text += detokenizer.flush();
  if (onText && emitted < text.length) onText(text.slice(emitted), generated.length);
  return { text, tokens: generated.length, stopReason, reusedTokens, promptMs };
}

/**
 * Plain generation streams as it goes. With `candidates` > 1 (consensus decoding), the first
 * candidate uses the settings as given and the others are sampled from the whole distribution
 * (no top-k / top-p cut) at `candidateTemperature` with seeds seed+1, seed+2, ...; the answer is chosen by chooseCandidate (consensus.ts: checked
 * against the expected findings, then consensus), and sent once chosen.
 */
async function generate(m: Extract<ToHost, { type: "generate" }>): Promise<void> {
  if (!model || !sequence) return send({ type: "failed", id: m.id, message: "model not loaded" });
  const t0 = performance.now();
  const bos = model.tokens.bos;
  const prompt: Token[] = [...(bos !== null && model.tokens.shouldPrependBosToken ? [bos] : []), ...model.tokenize(m.prompt)];
  const room = sequence.context.contextSize - prompt.length;
  if (room < 2) return send({ type: "failed", id: m.id, message: `the prompt (${prompt.length} tokens) does not fit the context (${sequence.context.contextSize} tokens)` });
  const { settings } = m;
  const maxTokens = Math.min(settings.maxTokens, room - 1);
  const n = settings.candidates ?? 1;
  const stream = (text: string, index: number) => send({ type: "token", id: m.id, text, index });
  const samples: Sampled[] = [];
  try {
    for (let k = 0; k < n; k++) {
      const s = k === 0 ? settings : { ...settings, temperature: settings.candidateTemperature ?? 1, topK: 0, topP: 1, seed: settings.seed + k };
      samples.push(await sampleOnce(m.id, prompt, s, m.stop, maxTokens, n === 1 ? stream : undefined));
      if (samples[k]!.stopReason === "cancelled") break;
    }
  } finally {
    cancelled.delete(m.id);
  }
  const last = samples[samples.length - 1]!;
  const chosen = last.stopReason === "cancelled" || n === 1 ? last : samples[chooseCandidate(samples.map((s) => s.text), m.expected)]!;
  if (n > 1 && chosen.stopReason !== "cancelled" && chosen.text) stream(chosen.text, chosen.tokens);
  const promptMs = samples[0]!.promptMs;
  send({
    type: "done",
    id: m.id,
    text: chosen.text,
    stopReason: chosen.stopReason,
    tokens: chosen.tokens,
    sampledTokens: samples.reduce((a, s) => a + s.tokens, 0),
    candidates: samples.length,
    promptTokens: prompt.length,
    reusedTokens: samples[0]!.reusedTokens,
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

/**
 * The model process: loads one GGUF and runs generations one at a time, streaming tokens back
 * over IPC. It runs in its own process because a malformed GGUF can abort the process it is
 * loaded in (GGML_ASSERT). Findings-text models go through the project's addon when it is built
 * (text-host.ts: consensus candidates as one batched generation), else through node-llama-cpp
 * (here: never building or downloading llama.cpp; candidates one after another). Soft-token
 * and multimodal models (load modes "soft-tokens", "multimodal") go through the addon: soft-host.ts.
 */
import { getLlama, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from "node-llama-cpp";
import type { Device } from "@xraygpt/protocol";
import type { FromHost, SamplingSettings, ToHost } from "./messages.js";
import { scanStops } from "./stop-strings.js";
import { Detokenizer } from "./detokenizer.js";
import { cancelSoft, generateSoft, loadSoft } from "./soft-host.js";
import { cancelText, generateText, loadText, textLoaded } from "./text-host.js";
import { candidateSettings, DraftStream, finishGeneration, type Sample } from "./candidates.js";

let llama: Llama | undefined;
let model: LlamaModel | undefined;
let context: LlamaContext | undefined;
let sequence: LlamaContextSequence | undefined;
const cancelled = new Set<number>();
let chain: Promise<void> = Promise.resolve();

function send(m: FromHost): void {
  process.send?.(m);
}

async function load(m: Extract<ToHost, { type: "load" }>): Promise<void> {
  const t0 = performance.now();
  try {
    if (m.mode === "soft-tokens" || m.mode === "multimodal") return send(await loadSoft(m));
    let addonFailure = "";
    if ((m.textEngine ?? "auto") !== "node-llama-cpp") {
      try {
        return send(await loadText(m));
      } catch (e) {
        if (m.textEngine === "addon") throw e;
        addonFailure = (e as Error).message.split("\n")[0]!;
      }
    }
    llama = await getLlama({ gpu: m.device === "cpu" ? false : "auto", build: "never", progressLogs: false, logLevel: "error" as never });
    model = await llama.loadModel({ modelPath: m.ggufPath, gpuLayers: m.device === "cpu" ? 0 : "auto" });
    context = await model.createContext({ contextSize: Math.min(m.contextSize, model.trainContextSize), sequences: 1, threads: m.threads });
    sequence = context.getSequence();
    const device: Device = llama.gpu === false || model.gpuLayers === 0 ? "cpu" : (llama.gpu as Device);
    send({
      type: "loaded",
      device,
      gpuLayers: model.gpuLayers,
      detail: `${device === "cpu" ? "CPU" : `${llama.gpu} (${model.gpuLayers} layers offloaded)`}, node-llama-cpp (llama.cpp ${llama.buildType})${addonFailure ? `; the addon is not used: ${addonFailure}` : ""}`,
      loadMs: performance.now() - t0,
    });
  } catch (e) {
    send({ type: "loadFailed", message: (e as Error).message });
  }
}

interface Sampled extends Sample {
  reusedTokens: number;
  promptMs: number;
}

/** One generation from `prompt` (the cached prefix is reused); `draft` streams its text. */
async function sampleOnce(id: number, prompt: Token[], settings: SamplingSettings, stop: string[], maxTokens: number, draft?: DraftStream): Promise<Sampled> {
  const t0 = performance.now();
  // Reuse the cached prefix (earlier chat turns); keep at least one token to evaluate for logits.
  await sequence!.adaptStateToTokens(prompt, false);
  if (sequence!.nextTokenIndex >= prompt.length) await sequence!.eraseContextTokenRanges([{ start: prompt.length - 1, end: sequence!.nextTokenIndex }]);
  const reusedTokens = sequence!.nextTokenIndex;
  const generated: Token[] = [];
  let text = "";
  const detokenizer = new Detokenizer(model!);
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
      const piece = detokenizer.push(token);
      text += piece;
      const stopAt = draft ? draft.push(piece, generated.length) : scanStops(text, stop).stopAt;
      if (stopAt >= 0) {
        text = text.slice(0, stopAt);
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
  draft?.finish(text, generated.length);
  return { text, tokens: generated.length, stopReason, reusedTokens, promptMs };
}

/**
 * Plain generation streams as it goes; with `candidates` > 1 (consensus decoding, settings in
 * candidates.ts) candidate 0 streams as the provisional draft, the others follow one after
 * another, and the chosen answer replaces the draft (finishGeneration).
 */
async function generate(m: Extract<ToHost, { type: "generate" }>): Promise<void> {
  if (!model || !sequence) return send({ type: "failed", id: m.id, message: "model not loaded" });
  const t0 = performance.now();
  const bos = model.tokens.bos;
  const prompt: Token[] = [...(bos !== null && model.tokens.shouldPrependBosToken ? [bos] : []), ...model.tokenize(m.prompt)];
  const room = sequence.context.contextSize - prompt.length;
  if (room < 2) return send({ type: "failed", id: m.id, message: `the prompt (${prompt.length} tokens) does not fit the context (${sequence.context.contextSize} tokens)` });
  const maxTokens = Math.min(m.settings.maxTokens, room - 1);
  const candidates = candidateSettings(m.settings);
  const samples: Sampled[] = [];
  try {
    for (const [k, s] of candidates.entries()) {
      samples.push(await sampleOnce(m.id, prompt, s, m.stop, maxTokens, k === 0 ? new DraftStream(m.id, m.stop, send, candidates.length > 1) : undefined));
      if (samples[k]!.stopReason === "cancelled") break;
      if (candidates.length > 1) send({ type: "candidates", id: m.id, done: k + 1, total: candidates.length });
    }
  } finally {
    cancelled.delete(m.id);
  }
  const promptMs = samples[0]!.promptMs;
  finishGeneration(m, samples, { promptTokens: prompt.length, reusedTokens: samples[0]!.reusedTokens, promptMs, generateMs: performance.now() - t0 - promptMs }, send);
}

process.on("message", (m: ToHost) => {
  if (m.type === "cancel") {
    cancelled.add(m.id);
    cancelSoft(m.id);
    cancelText(m.id);
    return;
  }
  const run =
    m.type === "load"
      ? () => load(m)
      : m.type === "generate"
        ? textLoaded()
          ? () => generateText(m, send, cancelled.has(m.id)).finally(() => cancelled.delete(m.id))
          : () => generate(m)
        : () => generateSoft(m, send, cancelled.has(m.id)).finally(() => cancelled.delete(m.id));
  chain = chain.then(run).catch((e: Error) => {
    if (m.type !== "load") send({ type: "failed", id: m.id, message: e.message });
    else send({ type: "loadFailed", message: e.message });
  });
});
process.on("disconnect", () => process.exit(0));

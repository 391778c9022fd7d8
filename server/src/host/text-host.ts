/**
 * The model process's findings-text side through the project's addon (BatchedTextGenerator): a
 * consensus of N candidates is one batched generation, whose candidate 0 (the settings as given)
 * streams as a provisional draft while the others fill in. host-main.ts falls back to
 * node-llama-cpp when the addon is not built.
 */
import { STREAM_INTERVAL_MS, type FromHost, type ToHost } from "./messages.js";
import { BatchedTextGenerator } from "./batched-generator.js";
import { candidateQuorum, candidateQuorums, candidateSettings, chooseAgreeing, chooseSample, DraftStream, finishGeneration, retrySettings, wantsNewImpression, wantsSecondRound } from "./candidates.js";
import { allowedWords, chooseCandidate, findingsOf, positivesPhrase } from "./consensus.js";

/** Candidates for an impression written again after the chosen findings, and their length. */
const IMPRESSION_CANDIDATES = 16;
const IMPRESSION_MAX_TOKENS = 48;

let generator: BatchedTextGenerator | undefined;
const running = new Map<number, AbortController>();

/** Loads the model through the addon; throws the addon's reason when it cannot be used. */
export async function loadText(m: Extract<ToHost, { type: "load" }>): Promise<Extract<FromHost, { type: "loaded" }>> {
  const t0 = performance.now();
  const cpu = m.device === "cpu";
  const g = await BatchedTextGenerator.load(m.ggufPath, { gpu: !cpu, gpuLayers: cpu ? 0 : "auto", contextSize: m.contextSize, threads: m.threads });
  generator = g;
  return {
    type: "loaded",
    device: g.device,
    gpuLayers: g.gpuLayers,
    detail: `${g.device === "cpu" ? "CPU" : `${g.device} (${g.gpuLayers} layers offloaded)`}, project addon (batched consensus)`,
    loadMs: performance.now() - t0,
  };
}

export function textLoaded(): boolean {
  return generator !== undefined;
}

/** Cancels a running generation (a no-op for other ids). */
export function cancelText(id: number): void {
  running.get(id)?.abort();
}

export async function generateText(m: Extract<ToHost, { type: "generate" }>, send: (m: FromHost) => void, cancelledEarly: boolean): Promise<void> {
  if (!generator) return send({ type: "failed", id: m.id, message: "model not loaded" });
  const prompt = generator.tokenize(m.prompt);
  if (prompt.length >= generator.contextSize - 1) return send({ type: "failed", id: m.id, message: `the prompt (${prompt.length} tokens) does not fit the context (${generator.contextSize} tokens)` });
  const candidates = candidateSettings(m.settings);
  const n = candidates.length;
  const ac = new AbortController();
  if (cancelledEarly) ac.abort();
  running.set(m.id, ac);
  // Every candidate keeps to the model's lexicon (token-level: no word outside it is written).
  const words = allowedWords(m.expected);
  const draft = new DraftStream(m.id, m.stop, send, n > 1);
  let lastDone = 0;
  let lastDoneSend = 0;
  const maxTokens = Math.min(m.settings.maxTokens, generator.contextSize - prompt.length - 1);
  try {
    const r = await generator.generate(prompt, {
      candidates,
      stop: m.stop,
      maxTokens,
      // Only a summary's stragglers are cut: answers are short, and the few candidates that
      // agree with the line are often the longer ones ("Yes, there is pneumonia.").
      ...(m.expected?.complete === false ? {} : candidateQuorums(m.settings)),
      signal: ac.signal,
      lexicon: words,
      onText0: (text, tokens) => draft.push(text, tokens),
      onDone:
        n > 1
          ? (done, total) => {
              const now = performance.now();
              if (done === lastDone || (done < total && now - lastDoneSend < STREAM_INTERVAL_MS)) return;
              lastDone = done;
              lastDoneSend = now;
              send({ type: "candidates", id: m.id, done, total });
            }
          : undefined,
    });
    const first = r.candidates[0]!;
    draft.finish(first.text, first.tokens);
    let chosen = chooseSample(m, r.candidates);
    let moreTokens = 0;
    // No candidate agrees with the findings line (for a few rare lines the answers' mode
    // contradicts it: "There is a pleural effusion." of a line giving only a pneumothorax), or no
    // answer that agrees says anything about what was asked ("Are there any support devices?" →
    // "Yes. There is an airspace opacity."): a
    // second round of samples at the evidence temperature, with new seeds, all of them finishing;
    // if none of those agrees either, the choice among them all without the sentences that
    // contradict the line on their own (chooseAgreeing).
    if (n > 1 && m.expected && chosen.stopReason !== "cancelled" && wantsSecondRound(chosen.text, m.expected)) {
      const again = await generator.generate(prompt, { candidates: retrySettings(m.settings), stop: m.stop, maxTokens, signal: ac.signal, lexicon: words });
      moreTokens += again.candidates.reduce((a, x) => a + x.tokens, 0);
      chosen = again.candidates.some((x) => x.stopReason === "cancelled") ? { ...chosen, stopReason: "cancelled" } : chooseAgreeing(m, r.candidates, again.candidates);
    }
    // A summary ends with an impression that names every given positive. When the chosen
    // candidate has none, one that leaves a given positive unsaid, or one that places a finding
    // where nothing placed it ("Right upper lobe pneumonia."), the model writes it again
    // after the chosen findings: "Impression:" and the given positives by name, which candidates
    // continue; the same checks choose among the whole texts and the chosen one as it was.
    if (n > 1 && m.expected && chosen.stopReason !== "cancelled" && wantsNewImpression(chosen.text, m.expected)) {
      const named = positivesPhrase(m.expected.present, words);
      const head = `${findingsOf(chosen.text)} Impression:${named ? ` ${named}` : ""}`;
      const more = generator.tokenize(m.prompt + head);
      const room = generator.contextSize - more.length - 1;
      if (room > 8) {
        const k = Math.min(n, IMPRESSION_CANDIDATES);
        const c = await generator.generate(more, { candidates: candidates.slice(0, k), stop: m.stop, maxTokens: Math.min(IMPRESSION_MAX_TOKENS, room), quorum: candidateQuorum(m.settings, k), signal: ac.signal, lexicon: words });
        const headTokens = more.length - prompt.length;
        const whole = c.candidates.filter((x) => x.stopReason !== "cut").map((x) => ({ ...x, text: head + x.text, tokens: headTokens + x.tokens }));
        // The impression that names the given positives and says nothing more is a candidate too.
        const bare = named ? [{ ...chosen, text: `${head}.`, tokens: headTokens + 1, stopReason: "eos" as const }] : [];
        const all = [chosen, ...bare, ...whole];
        chosen = whole.some((x) => x.stopReason === "cancelled") ? { ...chosen, stopReason: "cancelled" } : all[chooseCandidate(all.map((x) => x.text), m.expected)]!;
        moreTokens = c.candidates.reduce((a, x) => a + x.tokens, 0);
      }
    }
    finishGeneration(m, r.candidates, { promptTokens: r.promptTokens, reusedTokens: r.reusedTokens, promptMs: r.promptMs, generateMs: r.generateMs }, send, chosen, moreTokens);
  } finally {
    running.delete(m.id);
  }
}

/** Greedy text generation straight through node-llama-cpp (the evaluation's LLM stage). */
import { getLlama, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from "node-llama-cpp";
import { scanStops } from "../host/stop-strings.js";

export class GreedyRunner {
  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
  ) {}

  tokensGenerated = 0;
  msGenerating = 0;

  static async load(ggufPath: string, contextSize: number): Promise<GreedyRunner> {
    const llama = await getLlama({ gpu: false, build: "never", progressLogs: false });
    const model = await llama.loadModel({ modelPath: ggufPath, gpuLayers: 0 });
    const context = await model.createContext({ contextSize: Math.min(contextSize, model.trainContextSize), sequences: 1, threads: 1 });
    return new GreedyRunner(llama, model, context, context.getSequence());
  }

  /** Greedy continuation of `prompt` (BOS prepended), cut at the first stop string. */
  async generate(prompt: string, stops: string[], maxTokens: number): Promise<string> {
    const bos = this.model.tokens.bos;
    const ids: Token[] = [...(bos !== null ? [bos] : []), ...this.model.tokenize(prompt)];
    await this.sequence.clearHistory();
    const out: Token[] = [];
    let text = "";
    const t0 = performance.now();
    for await (const token of this.sequence.evaluate(ids, { temperature: 0 })) {
      if (this.model.isEogToken(token)) break;
      out.push(token);
      text = this.model.detokenize(out);
      const scan = scanStops(text, stops);
      if (scan.stopAt >= 0) {
        text = text.slice(0, scan.stopAt);
        break;
      }
      if (out.length >= maxTokens) break;
    }
    this.msGenerating += performance.now() - t0;
    this.tokensGenerated += out.length;
    return text.trim();
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}

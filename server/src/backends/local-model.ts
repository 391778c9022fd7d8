/**
 * What the local backends share: the LLM runs in a model process (host/), loaded on first use.
 * A findings-text model may run in several replica processes (BackendOptions.replicas): each
 * generation goes to the least busy one, and of those to the one whose last prompt shares the
 * longest start with it (a chat turn goes back to the process holding its earlier turns' KV).
 * Replicas beyond the first start on their first generation.
 */
import type { LoadedManifest } from "../models/manifest.js";
import { ModelProcess, type GenerationDone, type GenerationHooks } from "../host/model-process.js";
import type { ConditioningMode, MultimodalPrompt, SamplingSettings, SoftPrompt } from "../host/messages.js";
import { EngineError } from "../engine/errors.js";
import type { BackendInfo, BackendOptions } from "./backend.js";

/** Length of the common start of two strings. */
function sharedStart(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

export abstract class LocalModel {
  private readonly processes: ModelProcess[];
  private readonly busy = new Map<ModelProcess, number>();
  private readonly lastPrompt = new Map<ModelProcess, string>();

  constructor(
    protected readonly entry: LoadedManifest,
    opts: BackendOptions,
    mode: ConditioningMode,
    replicas = 1,
  ) {
    // The manifest schema requires `llm` whenever there is no remote backend.
    this.processes = Array.from(
      { length: Math.max(1, Math.floor(replicas)) },
      (_, i) =>
        new ModelProcess({
          ggufPath: entry.llmPath!,
          contextSize: entry.manifest.llm!.contextSize,
          device: opts.device,
          threads: opts.threads,
          label: replicas > 1 ? `${entry.manifest.id}#${i + 1}` : entry.manifest.id,
          mode,
          ...(entry.mmprojPath ? { mmprojPath: entry.mmprojPath } : {}),
          log: opts.log,
        }),
    );
  }

  /** The first model process (the only one unless there are replicas). */
  get llm(): ModelProcess {
    return this.processes[0]!;
  }

  /** The model processes (replicas). */
  get replicas(): readonly ModelProcess[] {
    return this.processes;
  }

  /** Generations at once: one per replica (undefined with one: the engine's setting). */
  get parallel(): number | undefined {
    return this.processes.length > 1 ? this.processes.length : undefined;
  }

  get info(): BackendInfo | undefined {
    if (!this.llm.loaded) return undefined;
    const n = this.processes.length;
    return n > 1 ? { ...this.llm.info!, detail: `${this.llm.info!.detail}; ${n} model processes` } : this.llm.info;
  }

  async load(): Promise<void> {
    await this.llm.ensureLoaded();
  }

  /** Consensus decoding runs in the node-llama-cpp host only (findings-text overrides this). */
  checkSettings(settings: Required<SamplingSettings>): void {
    if (settings.candidates > 1) throw new EngineError("InvalidParams", `model ${this.entry.manifest.id}: consensus decoding (candidates > 1) is available for findings-text models only`);
  }

  /** Runs a generation on the replica it should go to (see the module comment). */
  protected run(prompt: string | SoftPrompt | MultimodalPrompt, settings: SamplingSettings, stop: string[], hooks: GenerationHooks): Promise<GenerationDone> {
    const p = this.chooseReplica(typeof prompt === "string" ? prompt : undefined);
    this.busy.set(p, (this.busy.get(p) ?? 0) + 1);
    if (typeof prompt === "string") this.lastPrompt.set(p, prompt);
    return p.generate(prompt, settings, stop, hooks).finally(() => this.busy.set(p, this.busy.get(p)! - 1));
  }

  /** The replica a generation of `text` goes to now. */
  chooseReplica(text: string | undefined): ModelProcess {
    const busy = (x: ModelProcess) => this.busy.get(x) ?? 0;
    const shared = (x: ModelProcess) => (text === undefined ? 0 : sharedStart(this.lastPrompt.get(x) ?? "", text));
    // Least busy, then the longest shared start, then the first.
    return this.processes.reduce((best, p) => (busy(p) < busy(best) || (busy(p) === busy(best) && shared(p) > shared(best)) ? p : best));
  }


  async unload(): Promise<void> {
    for (const p of this.processes) p.stop();
  }
}

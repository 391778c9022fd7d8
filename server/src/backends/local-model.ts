/** What the local backends share: the LLM runs in a model process (host/), loaded on first use. */
import type { LoadedManifest } from "../models/manifest.js";
import { ModelProcess } from "../host/model-process.js";
import type { ConditioningMode, SamplingSettings } from "../host/messages.js";
import { EngineError } from "../engine/errors.js";
import type { BackendInfo, BackendOptions } from "./backend.js";

export abstract class LocalModel {
  readonly llm: ModelProcess;

  constructor(
    protected readonly entry: LoadedManifest,
    opts: BackendOptions,
    mode: ConditioningMode,
  ) {
    // The manifest schema requires `llm` whenever there is no remote backend.
    this.llm = new ModelProcess({
      ggufPath: entry.llmPath!,
      contextSize: entry.manifest.llm!.contextSize,
      device: opts.device,
      threads: opts.threads,
      label: entry.manifest.id,
      mode,
      ...(entry.mmprojPath ? { mmprojPath: entry.mmprojPath } : {}),
      log: opts.log,
    });
  }

  get info(): BackendInfo | undefined {
    return this.llm.loaded ? this.llm.info : undefined;
  }

  async load(): Promise<void> {
    await this.llm.ensureLoaded();
  }

  /** Consensus decoding runs in the node-llama-cpp host only (findings-text overrides this). */
  checkSettings(settings: Required<SamplingSettings>): void {
    if (settings.candidates > 1) throw new EngineError("InvalidParams", `model ${this.entry.manifest.id}: consensus decoding (candidates > 1) is available for findings-text models only`);
  }

  async unload(): Promise<void> {
    this.llm.stop();
  }
}

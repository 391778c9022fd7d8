/**
 * findings-text: the vision model's findings line goes into the manifest's text prompt at
 * `{findings}`; the project's addon generates (consensus candidates as one batched generation,
 * checked against the line), or node-llama-cpp where the addon is not built.
 */
import type { Findings } from "@xraygpt/protocol";
import type { LoadedManifest } from "../models/manifest.js";
import type { GenerationDone } from "../host/model-process.js";
import type { SamplingSettings } from "../host/messages.js";
import { expectedFindings, firstTurnPrompt, followUpText } from "../pipeline/condition.js";
import { askedAbout } from "../metrics/index.js";
import type { AnalysedImage, Backend, BackendOptions, GenerateHooks } from "./backend.js";
import { LocalModel } from "./local-model.js";

export interface TextPrompt {
  text: string;
  findings: Findings;
  /** The latest question or instruction. */
  question: string;
}

export class FindingsTextBackend extends LocalModel implements Backend<TextPrompt> {
  constructor(entry: LoadedManifest, opts: BackendOptions) {
    super(entry, opts, "findings-text", opts.replicas ?? 1);
  }

  async prepare(image: AnalysedImage): Promise<AnalysedImage> {
    return image;
  }

  firstTurn(image: AnalysedImage, prompt: string): TextPrompt {
    return { text: firstTurnPrompt(this.entry.manifest, image.findings, prompt), findings: image.findings, question: prompt };
  }

  nextTurn(previous: TextPrompt, answer: string, message: string): TextPrompt {
    return { ...previous, text: previous.text + followUpText(this.entry.manifest, answer, message), question: message };
  }

  override checkSettings(): void {}

  generate(prompt: TextPrompt, settings: SamplingSettings, hooks: GenerateHooks): Promise<GenerationDone> {
    const { manifest } = this.entry;
    // Consensus decoding checks its candidates against what the findings line says; a summary
    // should state every given positive, an answer to a question need not but must address it.
    const expected = prompt.findings.conditioningText
      ? {
          ...expectedFindings(prompt.findings.labels, manifest.conditioning),
          complete: hooks.purpose === "summary",
          ...(hooks.purpose === "answer" ? { asked: askedAbout(prompt.question) } : {}),
          ...(this.entry.lexiconPath ? { lexiconFile: this.entry.lexiconPath } : {}),
        }
      : undefined;
    return this.run(prompt.text, settings, manifest.prompt.stop, { signal: hooks.signal, onToken: hooks.onToken, onCandidates: hooks.onCandidates, ...(expected ? { expected } : {}) });
  }
}

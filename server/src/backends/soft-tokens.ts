/**
 * soft-tokens: the vision model's embeddings (through the manifest's projection, when it has one)
 * are placed at `<ImageHere>` in the prompt as soft tokens; the project's addon generates. The
 * text before the image and the soft tokens are the same every chat turn, so their KV is kept.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { LoadedManifest } from "../models/manifest.js";
import type { GenerationDone } from "../host/model-process.js";
import type { SamplingSettings, SoftPrompt } from "../host/messages.js";
import { followUpText, renderTemplate } from "../pipeline/condition.js";
import { loadProjection, project, type Projection } from "../softtoken/projection.js";
import { splitTemplate } from "../softtoken/prompt-items.js";
import { EngineError } from "../engine/errors.js";
import type { AnalysedImage, Backend, BackendOptions, GenerateHooks } from "./backend.js";
import { LocalModel } from "./local-model.js";

export class SoftTokensBackend extends LocalModel implements Backend<SoftPrompt> {
  /** The manifest's projection matrix [inDim, outDim], loaded once. */
  private projection: Promise<Projection> | undefined;

  constructor(entry: LoadedManifest, opts: BackendOptions) {
    super(entry, opts, "soft-tokens");
  }

  /** The vision embeddings, through the projection when the manifest has one. */
  async prepare(image: AnalysedImage): Promise<AnalysedImage> {
    const e = image.embeddings;
    if (!e) throw new EngineError("ModelUnavailable", `Model ${this.entry.manifest.id}: the vision model gave no embeddings`);
    if (!this.entry.manifest.conditioning.projection) return image;
    const p = await this.loadProjection(e.dim);
    return { ...image, embeddings: { data: project(e.data, e.tokens, p), tokens: e.tokens, dim: p.outDim } };
  }

  /** outDim follows from the file size. */
  private loadProjection(inDim: number): Promise<Projection> {
    const path = resolve(this.entry.dir, this.entry.manifest.conditioning.projection!);
    this.projection ??= (async () => {
      const size = (await stat(path).catch(() => undefined))?.size ?? 0;
      const outDim = size / (4 * inDim);
      if (!Number.isInteger(outDim) || outDim < 1) throw new Error(`soft-token projection ${path} has ${size} bytes, not a float32 [${inDim}, n] matrix`);
      return loadProjection(path, inDim, outDim);
    })().catch((e: Error) => {
      this.projection = undefined;
      throw new EngineError("ModelUnavailable", `Model ${this.entry.manifest.id}: ${e.message}`, path);
    });
    return this.projection;
  }

  /** The template is split at <ImageHere> before `{prompt}` is filled in, so the user's text cannot split it. */
  firstTurn(image: AnalysedImage, prompt: string): SoftPrompt {
    const e = image.embeddings!;
    const halves = splitTemplate(this.entry.manifest.prompt.template, "{prompt}");
    const values = { findings: image.findings.conditioningText ?? "", prompt };
    return { embeddings: e.data, nTokens: e.tokens, dim: e.dim, prefixText: renderTemplate(halves.prefixText, values), suffixText: renderTemplate(halves.suffixText, values) };
  }

  nextTurn(previous: SoftPrompt, answer: string, message: string): SoftPrompt {
    return { ...previous, suffixText: previous.suffixText + followUpText(this.entry.manifest, answer, message) };
  }

  generate(prompt: SoftPrompt, settings: SamplingSettings, hooks: GenerateHooks): Promise<GenerationDone> {
    return this.run(prompt, settings, this.entry.manifest.prompt.stop, { signal: hooks.signal, onToken: hooks.onToken });
  }
}

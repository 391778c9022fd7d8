/**
 * multimodal: a GGUF language model with its own vision projector (`llm.mmproj`, e.g. MedGemma,
 * Gemma 3, LLaVA, Qwen2.5-VL) run by llama.cpp's libmtmd through the project's addon, in a model
 * process. The image (the windowed 8-bit image, longer side at most `llm.imageMaxSize`) goes to
 * the model as RGB; its size, tiling and normalisation are mtmd's. The prompt is chat messages put
 * into the GGUF's own chat template in the model process: the manifest's system prompt, then the
 * template as the first user message with the image at `<ImageHere>` (and, with a classifier, its
 * findings line at `{findings}`). Every turn sends the whole conversation; the model process keeps
 * the KV of the common prefix, the image included (it is named by a hash of its pixels).
 */
import sharp from "sharp";
import type { LoadedManifest } from "../models/manifest.js";
import type { GenerationDone } from "../host/model-process.js";
import type { MultimodalPrompt, SamplingSettings } from "../host/messages.js";
import { renderTemplate } from "../pipeline/condition.js";
import { splitTemplate } from "../softtoken/prompt-items.js";
import { EngineError } from "../engine/errors.js";
import type { AnalysedImage, Backend, BackendOptions, GenerateHooks } from "./backend.js";
import { LocalModel } from "./local-model.js";

/** Longest side of the image given to mtmd when the manifest does not say (it resizes to the model's size itself). */
export const DEFAULT_IMAGE_MAX_SIZE = 1024;

/** The image as RGB8, next to what the pipeline gives (the engine hands it back on chat turns through the prompt). */
type MultimodalImage = AnalysedImage & { rgb?: MultimodalPrompt["image"] };

export class MultimodalBackend extends LocalModel implements Backend<MultimodalPrompt> {
  readonly imageSize: number;

  constructor(entry: LoadedManifest, opts: BackendOptions) {
    super(entry, opts, "multimodal");
    this.imageSize = entry.manifest.llm?.imageMaxSize ?? DEFAULT_IMAGE_MAX_SIZE;
  }

  /** The pipeline's 8-bit grey PNG, as the RGB8 pixels mtmd takes. */
  async prepare(image: AnalysedImage): Promise<MultimodalImage> {
    if (!image.png) throw new EngineError("ModelUnavailable", `Model ${this.entry.manifest.id}: the pipeline gave no image`);
    const { data, info } = await sharp(image.png).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new EngineError("ModelUnavailable", `Model ${this.entry.manifest.id}: the image has ${info.channels} channels after conversion, not 3`);
    return { ...image, rgb: { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height } };
  }

  /** The template is split at <ImageHere> before `{prompt}` is filled in, so the user's text cannot move the image. */
  firstTurn(image: MultimodalImage, prompt: string): MultimodalPrompt {
    const { manifest } = this.entry;
    const halves = splitTemplate(manifest.prompt.template, "{prompt}");
    const values = { findings: image.findings.conditioningText ?? "", prompt };
    const user: MultimodalPrompt["messages"][number] = { role: "user", content: [renderTemplate(halves.prefixText, values), renderTemplate(halves.suffixText, values)] };
    return { messages: [...(manifest.prompt.system ? [{ role: "system" as const, content: manifest.prompt.system }] : []), user], image: image.rgb! };
  }

  nextTurn(previous: MultimodalPrompt, answer: string, message: string): MultimodalPrompt {
    return { ...previous, messages: [...previous.messages, { role: "assistant", content: answer }, { role: "user", content: message }] };
  }

  generate(prompt: MultimodalPrompt, settings: SamplingSettings, hooks: GenerateHooks): Promise<GenerationDone> {
    return this.run(prompt, settings, this.entry.manifest.prompt.stop, { signal: hooks.signal, onToken: hooks.onToken });
  }
}

/**
 * Model manifests: `models/<id>/model.json`. The JSON schema below is the single definition;
 * `parseManifest` validates with it and turns every violation into one readable line.
 */
import { createHash } from "node:crypto";
import { PathGuard } from "../util/path-guard.js";
import { readRegularFile } from "../util/safe-file.js";
import { dirname, resolve } from "node:path";
import AjvModule from "ajv";

export interface LabelsOutput {
  kind: "labels";
  /** ONNX output name. */
  name: string;
  activation: "sigmoid" | "softmax" | "none";
  labels: string[];
  /** "findings" labels go into the findings line; "view" is the projection head. */
  role: "findings" | "view";
}
export interface EmbeddingsOutput {
  kind: "embeddings";
  name: string;
  /** [tokens, dim] */
  shape: [number, number];
}
export type VisionOutput = LabelsOutput | EmbeddingsOutput;

export interface VisionSpec {
  file: string;
  input: {
    name: string;
    width: number;
    height: number;
    channels: 1 | 3;
    /** Per channel, applied to values scaled to [0, 1]. */
    mean: number[];
    std: number[];
  };
  outputs: VisionOutput[];
}

/** A model served elsewhere by an OpenAI-compatible server (backends/openai-remote.ts). */
export interface RemoteBackendSpec {
  kind: "openai";
  /** Endpoints serving the same model, e.g. "http://gpu1:8000/v1"; the least loaded is used first. */
  baseUrls: string[];
  /** The `model` sent in requests. */
  model: string;
  /** "chat": /chat/completions with the image as a PNG data URL (VLMs, the default); "completions": /completions with the manifest's raw prompt and the findings line (text models). */
  api?: "chat" | "completions";
  /** Name of the environment variable holding the API key (never the key itself). */
  apiKeyEnv?: string;
  /** Requests in flight per endpoint (default 4). */
  maxConcurrency?: number;
  /** Per request, ms (default 120000). */
  timeoutMs?: number;
  /** Retries on 429 / 5xx / connection errors before any text came (default 2). */
  retries?: number;
  /** Longest side of the PNG sent (default 1024). */
  imageSize?: number;
  /** chat: a system message sent first. */
  system?: string;
  /**
   * chat: send the local findings line with the question (default true). False for a server that
   * grounds on the image itself (another `xraygpt serve --http`): the question goes alone, and a
   * summary with the default prompt as the image alone (the server's own summary).
   */
  sendFindings?: boolean;
}

export interface Manifest {
  id: string;
  name: string;
  version: string;
  description?: string;
  license: string;
  /**
   * The local vision model (for a remote backend too: its findings line is sent with the image).
   * Optional for a multimodal model: a classifier whose findings line grounds the prompt.
   */
  vision?: VisionSpec;
  /**
   * The local GGUF; absent for a remote backend. A multimodal model adds its vision projector
   * (`mmproj`, a GGUF llama.cpp's libmtmd loads); its two files may be absolute paths.
   * `lexicon`: a word list (one lower-case word per line, the training reports' vocabulary);
   * consensus decoding prefers candidates whose words are all in it.
   */
  llm?: { file: string; contextSize: number; mmproj?: string; imageMaxSize?: number; lexicon?: string };
  /** Where generation runs; absent: locally, as `conditioning.mode` says. */
  backend?: RemoteBackendSpec;
  conditioning: {
    /** multimodal: the image goes to the LLM's own vision projector (llm.mmproj) through libmtmd. */
    mode: "findings-text" | "soft-tokens" | "multimodal";
    /** findings-text: a probability at or above this is "positive". */
    threshold?: number;
    /** findings-text: probabilities within [low, high) are "uncertain" (optional band). */
    uncertain?: [number, number];
    /** soft-tokens: optional projection matrix file (float32 LE, [inDim, outDim]). */
    projection?: string;
  };
  prompt: {
    /**
     * `{prompt}` is the user's instruction; `{findings}` the findings line (findings-text, and
     * multimodal with a classifier); `<ImageHere>` the soft tokens (soft-tokens) or the image
     * (multimodal: there the template is the first user message, put into the GGUF's own chat template).
     */
    template: string;
    /** multimodal: the system message of the chat template. */
    system?: string;
    /** Appended once per earlier turn in chat: `{prompt}` and `{answer}`. */
    turnTemplate?: string;
    stop: string[];
    defaultPrompt: string;
  };
  generation: {
    maxTokens: number;
    temperature: number;
    topP: number;
    topK: number;
    repeatPenalty: number;
    seed: number;
    /**
     * Consensus decoding (findings-text models): generate this many candidates, the first with
     * the settings above and the rest sampled from the whole distribution at
     * candidateTemperature, and answer with the one that agrees with the findings line and most
     * with the others (ROUGE-L; host/consensus.ts). 1 (the default) streams one generation.
     */
    candidates?: number;
    candidateTemperature?: number;
    /**
     * Of the candidates, this many (the last ones) are evidence: sampled at evidenceTemperature
     * (default 1, the model's own distribution), the others are scored by how much they agree
     * with them; one is the answer only when it does better on the findings checks than every
     * other candidate. Low-temperature candidates are the
     * better answers, full-temperature samples the unbiased estimate of what the model would
     * say. 0 (the default): every candidate is scored against all the others.
     */
    evidenceCandidates?: number;
    evidenceTemperature?: number;
    /**
     * The fraction of the candidates that must finish before the rest (all but the first) are
     * cut: the longest samples would keep the batch running for many steps while the answer is
     * already among the finished ones. 1 (the default): every candidate finishes.
     */
    candidateQuorum?: number;
  };
}

export const manifestSchema = {
  type: "object",
  required: ["id", "name", "version", "license", "conditioning", "prompt", "generation"],
  additionalProperties: true,
  allOf: [
    { if: { not: { required: ["backend"] } }, then: { required: ["llm"] } },
    { if: { not: { properties: { conditioning: { type: "object", properties: { mode: { const: "multimodal" } } } } } }, then: { required: ["vision"] } },
  ],
  properties: {
    backend: {
      type: "object",
      required: ["kind", "baseUrls", "model"],
      additionalProperties: false,
      properties: {
        kind: { enum: ["openai"] },
        baseUrls: { type: "array", minItems: 1, items: { type: "string", pattern: "^https?://" } },
        model: { type: "string", minLength: 1 },
        api: { enum: ["chat", "completions"] },
        apiKeyEnv: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
        maxConcurrency: { type: "integer", minimum: 1, maximum: 256 },
        timeoutMs: { type: "integer", minimum: 100 },
        retries: { type: "integer", minimum: 0, maximum: 10 },
        imageSize: { type: "integer", minimum: 16, maximum: 4096 },
        system: { type: "string" },
        sendFindings: { type: "boolean" },
      },
    },
    id: { type: "string", pattern: "^[a-z0-9][a-z0-9._-]*$" },
    name: { type: "string", minLength: 1 },
    version: { type: "string", minLength: 1 },
    description: { type: "string" },
    license: { type: "string", minLength: 1 },
    vision: {
      type: "object",
      required: ["file", "input", "outputs"],
      properties: {
        file: { type: "string", minLength: 1 },
        input: {
          type: "object",
          required: ["name", "width", "height", "channels", "mean", "std"],
          properties: {
            name: { type: "string" },
            width: { type: "integer", minimum: 1, maximum: 4096 },
            height: { type: "integer", minimum: 1, maximum: 4096 },
            channels: { enum: [1, 3] },
            mean: { type: "array", items: { type: "number" }, minItems: 1, maxItems: 3 },
            std: { type: "array", items: { type: "number", exclusiveMinimum: 0 }, minItems: 1, maxItems: 3 },
          },
        },
        outputs: {
          type: "array",
          minItems: 1,
          items: {
            type: "object",
            required: ["kind", "name"],
            properties: {
              kind: { enum: ["labels", "embeddings"] },
              name: { type: "string" },
              activation: { enum: ["sigmoid", "softmax", "none"] },
              labels: { type: "array", items: { type: "string" }, minItems: 1 },
              role: { enum: ["findings", "view"] },
              shape: { type: "array", items: { type: "integer", minimum: 1 }, minItems: 2, maxItems: 2 },
            },
            if: { properties: { kind: { const: "labels" } } },
            then: { required: ["activation", "labels", "role"] },
            else: { required: ["shape"] },
          },
        },
      },
    },
    llm: {
      type: "object",
      required: ["file", "contextSize"],
      properties: {
        file: { type: "string", minLength: 1 },
        contextSize: { type: "integer", minimum: 64 },
        mmproj: { type: "string", minLength: 1 },
        imageMaxSize: { type: "integer", minimum: 16, maximum: 8192 },
        lexicon: { type: "string", minLength: 1 },
      },
    },
    conditioning: {
      type: "object",
      required: ["mode"],
      properties: {
        mode: { enum: ["findings-text", "soft-tokens", "multimodal"] },
        threshold: { type: "number", minimum: 0, maximum: 1 },
        uncertain: { type: "array", items: { type: "number", minimum: 0, maximum: 1 }, minItems: 2, maxItems: 2 },
        projection: { type: "string" },
      },
    },
    prompt: {
      type: "object",
      required: ["template", "stop", "defaultPrompt"],
      properties: {
        template: { type: "string", minLength: 1 },
        turnTemplate: { type: "string" },
        system: { type: "string" },
        stop: { type: "array", items: { type: "string", minLength: 1 } },
        defaultPrompt: { type: "string", minLength: 1 },
      },
    },
    generation: {
      type: "object",
      required: ["maxTokens", "temperature", "topP", "topK", "repeatPenalty", "seed"],
      properties: {
        maxTokens: { type: "integer", minimum: 1, maximum: 8192 },
        temperature: { type: "number", minimum: 0, maximum: 5 },
        topP: { type: "number", minimum: 0, maximum: 1 },
        topK: { type: "integer", minimum: 0 },
        repeatPenalty: { type: "number", minimum: 0 },
        seed: { type: "integer", minimum: 0 },
        candidates: { type: "integer", minimum: 1, maximum: 64 },
        candidateTemperature: { type: "number", minimum: 0, maximum: 5 },
        evidenceCandidates: { type: "integer", minimum: 0, maximum: 63 },
        evidenceTemperature: { type: "number", minimum: 0, maximum: 5 },
        candidateQuorum: { type: "number", exclusiveMinimum: 0, maximum: 1 },
      },
    },
  },
} as const;

const Ajv = AjvModule as unknown as typeof AjvModule.default;
const validate = new Ajv({ allErrors: true }).compile(manifestSchema);

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`Invalid model manifest ${file}:\n  - ${problems.join("\n  - ")}`);
    this.name = "ManifestError";
  }
}

/** Validate parsed JSON as a manifest; throws ManifestError listing every problem. */
export function parseManifest(json: unknown, file: string): Manifest {
  if (!validate(json)) {
    const problems = (validate.errors ?? [])
      .filter((e) => e.keyword !== "if")
      .map((e) => `${e.instancePath || "(top level)"} ${e.message ?? "is invalid"}${e.params && "allowedValues" in e.params ? `: ${(e.params.allowedValues as unknown[]).join(", ")}` : ""}`);
    throw new ManifestError(file, problems);
  }
  const m = json as unknown as Manifest;
  const problems: string[] = [];
  const input = m.vision?.input;
  if (input && (input.mean.length !== input.channels || input.std.length !== input.channels))
    problems.push(`/vision/input mean and std need ${input.channels} value(s), one per channel`);
  const outputs = m.vision?.outputs ?? [];
  const embeddings = outputs.filter((o) => o.kind === "embeddings");
  if (m.backend && m.conditioning.mode !== "findings-text") problems.push("/conditioning a remote backend takes mode \"findings-text\" (its findings line is sent with the image)");
  if (m.conditioning.mode === "soft-tokens" && embeddings.length !== 1)
    problems.push("/conditioning soft-tokens needs exactly one vision output of kind \"embeddings\"");
  if (m.conditioning.mode === "soft-tokens" && !m.prompt.template.includes("<ImageHere>"))
    problems.push("/prompt/template needs an <ImageHere> placeholder for soft-tokens conditioning");
  if (m.conditioning.mode === "findings-text" && !outputs.some((o) => o.kind === "labels" && o.role === "findings"))
    problems.push("/conditioning findings-text needs a vision output of kind \"labels\" with role \"findings\"");
  if (m.conditioning.mode === "multimodal") problems.push(...multimodalProblems(m));
  if (!m.prompt.template.includes("{prompt}")) problems.push("/prompt/template needs a {prompt} placeholder");
  const g = m.generation;
  if ((g.evidenceCandidates ?? 0) > 0 && g.evidenceCandidates! >= (g.candidates ?? 1))
    problems.push(`/generation/evidenceCandidates must be below candidates (${g.evidenceCandidates} of ${g.candidates ?? 1}): candidate 0 is always an answer`);
  if (problems.length) throw new ManifestError(file, problems);
  return m;
}

/** What a multimodal manifest needs beyond the schema. */
function multimodalProblems(m: Manifest): string[] {
  const problems: string[] = [];
  if (!m.llm?.mmproj) problems.push("/llm multimodal needs mmproj (the vision projector GGUF)");
  if (m.prompt.template.split("<ImageHere>").length !== 2) problems.push("/prompt/template needs exactly one <ImageHere> (where the image goes) for multimodal conditioning");
  const classifier = m.vision?.outputs.some((o) => o.kind === "labels" && o.role === "findings") ?? false;
  if (classifier && !m.prompt.template.includes("{findings}")) problems.push("/prompt/template needs {findings} (the classifier's findings line) when the model has a vision classifier");
  if (m.vision?.outputs.some((o) => o.kind === "embeddings")) problems.push("/vision a multimodal model's classifier gives labels only (its projector makes the image embeddings)");
  return problems;
}

export interface LoadedManifest {
  manifest: Manifest;
  /** Absolute path of model.json. */
  path: string;
  dir: string;
  /** SHA-256 (hex) of the manifest bytes. */
  hash: string;
  /** Absent for a multimodal model without a classifier. */
  visionPath?: string;
  /** Absent for a remote model. */
  llmPath?: string;
  /** The LLM's word list, when the manifest names one. */
  lexiconPath?: string;
  /** A multimodal model's projector. */
  mmprojPath?: string;
}

/** JSON.parse's complaint without the text it quotes (a file's bytes never reach a message). */
function jsonProblem(e: unknown): string {
  const at = /position (\d+)/.exec((e as Error).message)?.[1];
  return `not valid JSON${at ? ` (at byte ${at})` : ""}`;
}

/**
 * A file the manifest names, resolved from its folder; it must stay inside that folder (after
 * symlinks), so a manifest cannot make the daemon open `../../etc/shadow`.
 */
function modelFile(dir: string, key: string, file: string, problems: string[], allowOutside = false): string {
  const path = resolve(dir, file);
  if (allowOutside) return path;
  try {
    return new PathGuard([dir]).check(path);
  } catch {
    problems.push(`${key} "${file}" points outside the model's folder ${dir}`);
    return path;
  }
}

export async function loadManifest(path: string): Promise<LoadedManifest> {
  const abs = resolve(path);
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(abs, { what: "model manifest", maxBytes: 1 << 20 });
  } catch (e) {
    throw new ManifestError(abs, [(e as Error).message]);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    throw new ManifestError(abs, [jsonProblem(e)]);
  }
  const manifest = parseManifest(json, abs);
  const dir = dirname(abs);
  const problems: string[] = [];
  // A remote model (`models add-remote`) borrows a local model's vision ONNX by absolute path, and
  // a multimodal model (`models add`) names its multi-GB GGUF and mmproj where they are; their
  // headers are still checked when models are listed. Every other file stays in the model's folder.
  const multimodal = manifest.conditioning.mode === "multimodal";
  const visionPath = manifest.vision ? modelFile(dir, "/vision/file", manifest.vision.file, problems, manifest.backend !== undefined || multimodal) : undefined;
  const llmPath = manifest.llm ? modelFile(dir, "/llm/file", manifest.llm.file, problems, multimodal) : undefined;
  const mmprojPath = multimodal && manifest.llm?.mmproj ? modelFile(dir, "/llm/mmproj", manifest.llm.mmproj, problems, true) : undefined;
  const lexiconPath = manifest.llm?.lexicon ? modelFile(dir, "/llm/lexicon", manifest.llm.lexicon, problems) : undefined;
  if (manifest.conditioning.projection) modelFile(dir, "/conditioning/projection", manifest.conditioning.projection, problems);
  if (problems.length) throw new ManifestError(abs, problems);
  return {
    manifest,
    path: abs,
    dir,
    hash: createHash("sha256").update(bytes).digest("hex"),
    ...(visionPath ? { visionPath } : {}),
    ...(llmPath ? { llmPath } : {}),
    ...(mmprojPath ? { mmprojPath } : {}),
    ...(lexiconPath ? { lexiconPath } : {}),
  };
}

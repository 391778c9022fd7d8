/** The backend a manifest asks for. */
import type { LoadedManifest } from "../models/manifest.js";
import type { Backend, BackendOptions } from "./backend.js";
import { FindingsTextBackend } from "./findings-text.js";
import { SoftTokensBackend } from "./soft-tokens.js";
import { OpenAIRemoteBackend } from "./openai-remote.js";
import { MultimodalBackend } from "./multimodal.js";

export function createBackend(entry: LoadedManifest, opts: BackendOptions): Backend {
  if (entry.manifest.backend?.kind === "openai") return new OpenAIRemoteBackend(entry, opts) as Backend;
  switch (entry.manifest.conditioning.mode) {
    case "findings-text":
      return new FindingsTextBackend(entry, opts) as Backend;
    case "soft-tokens":
      return new SoftTokensBackend(entry, opts) as Backend;
    case "multimodal":
      return new MultimodalBackend(entry, opts) as Backend;
  }
}

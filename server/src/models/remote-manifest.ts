/**
 * `xraygpt models add-remote`: a manifest for a model served elsewhere, written into the user's
 * models folder. It borrows the vision model (by absolute path, not copied), findings settings,
 * prompt and sampling defaults of a local model (default: the bundled xraygpt-mini), so the
 * findings line is computed here and sent with the image.
 */
import { loadManifest, type Manifest, type RemoteBackendSpec } from "./manifest.js";
import { writeNewManifest } from "./write-manifest.js";

export interface AddRemoteOptions {
  id: string;
  modelsDir: string;
  /** The local model whose vision model and prompt settings are borrowed. */
  fromManifest: string;
  backend: Omit<RemoteBackendSpec, "kind">;
  name?: string;
}

export async function addRemoteModel(o: AddRemoteOptions): Promise<{ path: string; manifest: Manifest }> {
  const from = await loadManifest(o.fromManifest);
  const { vision, conditioning, prompt, generation, license } = from.manifest;
  if (!vision || !from.visionPath) throw new Error(`${o.fromManifest}: model ${from.manifest.id} has no vision model to borrow`);
  const json = {
    id: o.id,
    name: o.name ?? o.id,
    version: "1",
    description: `${o.backend.model} served at ${o.backend.baseUrls.join(", ")} (OpenAI-compatible); findings from ${from.manifest.id}'s vision model`,
    license: `the served model's own; the vision model: ${license}`,
    vision: { ...vision, file: from.visionPath },
    conditioning: { ...conditioning, mode: "findings-text" },
    prompt,
    generation: { ...generation, candidates: 1, evidenceCandidates: 0 },
    backend: { kind: "openai", ...o.backend },
  };
  return writeNewManifest(o.modelsDir, o.id, json);
}

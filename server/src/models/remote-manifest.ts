/**
 * `xraygpt models add-remote`: a manifest for a model served elsewhere, written into the user's
 * models folder. It borrows the vision model (by absolute path, not copied), findings settings,
 * prompt and sampling defaults of a local model (default: the bundled xraygpt-mini), so the
 * findings line is computed here and sent with the image.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadManifest, parseManifest, type Manifest, type RemoteBackendSpec } from "./manifest.js";

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
  const json = {
    id: o.id,
    name: o.name ?? o.id,
    version: "1",
    description: `${o.backend.model} served at ${o.backend.baseUrls.join(", ")} (OpenAI-compatible); findings from ${from.manifest.id}'s vision model`,
    license: `the served model's own; the vision model: ${license}`,
    vision: { ...vision, file: from.visionPath },
    conditioning: { ...conditioning, mode: "findings-text" },
    prompt,
    generation: { ...generation, candidates: 1 },
    backend: { kind: "openai", ...o.backend },
  };
  const dir = join(o.modelsDir, o.id);
  const path = join(dir, "model.json");
  const manifest = parseManifest(json, path);
  await mkdir(dir, { recursive: true });
  // "wx": an existing manifest is never overwritten.
  await writeFile(path, JSON.stringify(manifest, null, 2) + "\n", { flag: "wx" }).catch((e: NodeJS.ErrnoException) => {
    throw e.code === "EEXIST" ? new Error(`${path} exists already; remove it or choose another id`) : e;
  });
  return { path, manifest };
}

/**
 * The model registry: every `<dir>/<id>/model.json` under the models folders (the bundled
 * models/ folder first, then configured ones; a later folder's model with the same id wins).
 */
import { access, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadManifest, ManifestError, type LoadedManifest } from "./manifest.js";

/** The repository's models/ folder (bundled models). */
export const BUNDLED_MODELS_DIR = fileURLToPath(new URL("../../../models/", import.meta.url));
export const DEFAULT_MODEL_ID = "xraygpt-mini";

export interface RegistryEntry {
  id: string;
  manifestPath: string;
  /** Present when the manifest is valid and its files exist. */
  loaded?: LoadedManifest;
  problem?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function inspect(id: string, manifestPath: string): Promise<RegistryEntry> {
  try {
    const loaded = await loadManifest(manifestPath);
    const missing = [];
    for (const f of [loaded.visionPath, loaded.llmPath]) if (!(await exists(f))) missing.push(f);
    if (missing.length) return { id, manifestPath, problem: `missing file(s): ${missing.join(", ")}` };
    if (loaded.manifest.id !== id) return { id, manifestPath, problem: `manifest id "${loaded.manifest.id}" does not match its folder "${id}"` };
    return { id, manifestPath, loaded };
  } catch (e) {
    return { id, manifestPath, problem: e instanceof ManifestError ? e.problems.join("; ") : (e as Error).message };
  }
}

/** Scan the folders; folders that don't exist are skipped. */
export async function scanModels(dirs: string[]): Promise<Map<string, RegistryEntry>> {
  const found = new Map<string, RegistryEntry>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const manifestPath = join(dir, name, "model.json");
      if (await exists(manifestPath)) found.set(name, await inspect(name, manifestPath));
    }
  }
  return found;
}

/**
 * The model registry: every `<dir>/<id>/model.json` under the models folders (the bundled
 * models/ folder first, then configured ones; a later folder's model with the same id wins,
 * except over a bundled model when it is broken). The bundled model is never shadowed silently:
 * a working same-id model elsewhere takes the id with a warning and the bundled one stays usable
 * as `bundled:<id>`; a broken one is listed as `<id>@<its folder>` and the bundled one keeps the
 * id. Every model's files are header-checked here (model-files.ts), so a broken model is listed
 * as unavailable before its first use.
 * A soft-token model is unavailable, with the addon's one-line reason, when the soft-token
 * addon cannot load here; a multimodal model also when its multimodal module cannot
 * ("multimodal models unavailable: <reason>"); findings-text models need neither.
 */
import { access, readdir } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSoftTokenAddon, type AddonLoadResult } from "../softtoken/addon.js";
import { loadMtmdAddon } from "../multimodal/mtmd-addon.js";
import { loadManifest, ManifestError, type LoadedManifest } from "./manifest.js";
import { modelFileProblems } from "./model-files.js";

/** The repository's models/ folder (bundled models). */
export const BUNDLED_MODELS_DIR = fileURLToPath(new URL("../../../models/", import.meta.url));
export const DEFAULT_MODEL_ID = "xraygpt-mini";

/** The user's models folder when XRAYGPT_MODELS_DIR is not set: $XDG_DATA_HOME/xraygpt/models, else ~/.local/share/xraygpt/models. */
export function userModelsDir(): string {
  return join(process.env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "xraygpt", "models");
}

export interface RegistryEntry {
  id: string;
  manifestPath: string;
  /** Present when the manifest is valid and its files exist. */
  loaded?: LoadedManifest;
  problem?: string;
  /** Usable, but worth saying (it shadows the bundled model of the same id). */
  warning?: string;
}

/** The qualified id under which a shadowed bundled model stays usable. */
export const bundledId = (id: string) => `bundled:${id}`;

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export interface ScanOptions {
  /**
   * Whether soft-token models can run here (default: the soft-token addon loads, CPU backend
   * only: the daemon's own process never generates, its model processes load the GPU backends).
   */
  softTokenAddon?(): AddonLoadResult;
  /** Whether multimodal models can run here (default: the multimodal module loads). */
  mtmdAddon?(): { ok: true } | { ok: false; reason: string };
}

async function inspect(id: string, manifestPath: string, opts: ScanOptions): Promise<RegistryEntry> {
  try {
    const loaded = await loadManifest(manifestPath);
    const { conditioning } = loaded.manifest;
    const projection = conditioning.projection ? resolve(loaded.dir, conditioning.projection) : undefined;
    const files = [loaded.visionPath, loaded.llmPath, loaded.mmprojPath, projection].filter((f): f is string => f !== undefined);
    const missing = [];
    for (const f of files) if (!(await exists(f))) missing.push(f);
    if (missing.length) return { id, manifestPath, problem: `missing file(s): ${missing.join(", ")}` };
    const broken = await modelFileProblems(loaded, projection);
    if (broken.length) return { id, manifestPath, problem: broken.join("; ") };
    if (loaded.manifest.id !== id) return { id, manifestPath, problem: `manifest id "${loaded.manifest.id}" does not match its folder "${id}"` };
    if (conditioning.mode === "soft-tokens" || conditioning.mode === "multimodal") {
      const addon = (opts.softTokenAddon ?? (() => loadSoftTokenAddon({ gpu: false })))();
      if (!addon.ok) return { id, manifestPath, problem: conditioning.mode === "multimodal" ? `multimodal models unavailable: ${addon.reason}` : addon.reason };
    }
    if (conditioning.mode === "multimodal") {
      const mtmd = (opts.mtmdAddon ?? loadMtmdAddon)();
      if (!mtmd.ok) return { id, manifestPath, problem: mtmd.reason };
    }
    return { id, manifestPath, loaded };
  } catch (e) {
    return { id, manifestPath, problem: e instanceof ManifestError ? e.problems.join("; ") : (e as Error).message };
  }
}

/** Scan the folders; folders that don't exist are skipped. */
export async function scanModels(dirs: string[], opts: ScanOptions = {}): Promise<Map<string, RegistryEntry>> {
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
      if (!(await exists(manifestPath))) continue;
      const entry = await inspect(name, manifestPath, opts);
      const earlier = found.get(name);
      if (earlier && resolve(dirname(dirname(earlier.manifestPath))) === resolve(BUNDLED_MODELS_DIR)) {
        if (entry.loaded) {
          found.set(bundledId(name), { ...earlier, id: bundledId(name) });
          found.set(name, { ...entry, warning: `shadows the bundled model "${name}" (still usable as "${bundledId(name)}")` });
        } else {
          const id = `${name}@${dir}`;
          found.set(id, { ...entry, id, problem: `${entry.problem}; the bundled "${name}" is used instead` });
        }
        continue;
      }
      found.set(name, entry);
    }
  }
  return found;
}

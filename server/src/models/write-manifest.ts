/** Writes a new model's manifest into `<modelsDir>/<id>/model.json`, validated first; an existing one is never overwritten. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseManifest, type Manifest } from "./manifest.js";

export async function writeNewManifest(modelsDir: string, id: string, json: unknown): Promise<{ path: string; manifest: Manifest }> {
  const dir = join(modelsDir, id);
  const path = join(dir, "model.json");
  const manifest = parseManifest(json, path);
  await mkdir(dir, { recursive: true });
  // "wx": an existing manifest is never overwritten.
  await writeFile(path, JSON.stringify(manifest, null, 2) + "\n", { flag: "wx" }).catch((e: NodeJS.ErrnoException) => {
    throw e.code === "EEXIST" ? new Error(`${path} exists already; remove it or choose another id`) : e;
  });
  return { path, manifest };
}

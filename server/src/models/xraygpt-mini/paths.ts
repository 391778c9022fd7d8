/** Where the bundled xraygpt-mini files live (relative to this compiled module). */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const MODEL_DIR = fileURLToPath(new URL("../../../../models/xraygpt-mini/", import.meta.url));
export const MANIFEST_PATH = `${MODEL_DIR}model.json`;
export const TRAIN_DIR = `${MODEL_DIR}train/`;
export const PARITY_DIR = `${MODEL_DIR}parity/`;
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** Why the training Python (with numpy) cannot run here, or null when it can. */
export function pythonUnavailable(modules: string[] = ["numpy"]): string | null {
  const r = spawnSync(SYSTEM_PYTHON, ["-c", `import ${modules.join(", ")}`], { encoding: "utf8" });
  if (r.error) return `${SYSTEM_PYTHON} not found (${r.error.message})`;
  if (r.status !== 0) return `${SYSTEM_PYTHON} lacks ${modules.join("/")} (apt-get install python3-numpy python3-torch)`;
  return null;
}

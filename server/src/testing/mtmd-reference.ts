/**
 * The numpy reference forward pass of the tiny VLM fixtures' vision towers + projectors
 * (test/reference/mtmd_vision.py), run on an RGB8 image: the image embeddings as libmtmd should
 * compute them. Needs /usr/bin/python3 with numpy (Debian python3-numpy).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RgbImage } from "../multimodal/mtmd-addon.js";

export const REFERENCE_SCRIPT = fileURLToPath(new URL("../../../test/reference/mtmd_vision.py", import.meta.url));
const PYTHON = "/usr/bin/python3";

/** false when the reference can run here, else why not (for a test's skip). */
export function referenceUnavailable(): false | string {
  if (!existsSync(PYTHON)) return `${PYTHON} is missing (apt-get install python3 python3-numpy)`;
  const r = spawnSync(PYTHON, ["-c", "import numpy"], { encoding: "utf8" });
  return r.status === 0 ? false : `numpy is missing for ${PYTHON} (apt-get install python3-numpy)`;
}

export function referenceImageEmbeddings(mmproj: string, image: RgbImage): { embeddings: Float32Array; nTokens: number; dim: number } {
  const r = spawnSync(PYTHON, [REFERENCE_SCRIPT, mmproj, String(image.width), String(image.height)], { input: image.data, maxBuffer: 64 << 20 });
  const err = r.stderr.toString("utf8").trim();
  if (r.status !== 0) throw new Error(`mtmd_vision.py failed (${r.status}): ${err.split("\n").slice(-3).join(" | ")}`);
  const { nTokens, dim } = JSON.parse(err.split("\n").at(-1)!) as { nTokens: number; dim: number };
  const out = r.stdout;
  const embeddings = new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
  if (embeddings.length !== nTokens * dim) throw new Error(`mtmd_vision.py wrote ${embeddings.length} floats for ${nTokens} x ${dim}`);
  return { embeddings, nTokens, dim };
}

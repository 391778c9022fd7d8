/** Flags every model-using command shares, and the engine they configure. */
import { resolve } from "node:path";
import { XrayEngine } from "../engine/engine.js";
import { userModelsDir } from "../models/registry.js";
import type { Engine } from "../engine/types.js";
import { UsageError } from "./command.js";

export const ENGINE_FLAGS = ["model", "models-dir", "device", "threads", "replicas", "allow-root"];

export const ENGINE_HELP = `  --model ID          model to use (default: xraygpt-mini)
  --models-dir DIR    extra folder of models (<DIR>/<id>/model.json); repeat with commas
                      (also read: XRAYGPT_MODELS_DIR, else ~/.local/share/xraygpt/models)
  --device D          auto (default), cpu or gpu
  --threads N         CPU threads per model (default: the cores but one, at most 8; also
                      XRAYGPT_THREADS): more threads than free cores make llama.cpp crawl
  --replicas N|auto   model processes per findings-text model, each one generation at a
                      time (default 1; annotate: auto = the cores / --threads, at most 4)
  --allow-root DIRS   only read or write files under these folders (comma-separated):
                      images, image lists, logs`;

/** `extraRoots`: folders of the command's own that --allow-root must not shut out. */
export function engineFromFlags(flags: Record<string, string | boolean>, log?: (line: string) => void, extraRoots: string[] = [], defaults: { replicas?: number | "auto" } = {}): Engine {
  const device = (flags.device as string | undefined) ?? process.env.XRAYGPT_DEVICE ?? "auto";
  if (!["auto", "cpu", "gpu"].includes(device)) throw new UsageError(`--device must be auto, cpu or gpu (got ${device})`);
  const list = (v: string | boolean | undefined) => (typeof v === "string" ? v.split(",").filter(Boolean).map((d) => resolve(d)) : undefined);
  const envDirs = process.env.XRAYGPT_MODELS_DIR ? process.env.XRAYGPT_MODELS_DIR.split(",").map((d) => resolve(d)) : [userModelsDir()];
  return new XrayEngine({
    modelsDirs: [...envDirs, ...(list(flags["models-dir"]) ?? [])],
    defaultModel: (flags.model as string | undefined) ?? process.env.XRAYGPT_MODEL,
    allowedRoots: flags["allow-root"] === undefined ? undefined : [...list(flags["allow-root"])!, ...extraRoots],
    device: device as "auto" | "cpu" | "gpu",
    threads: threadsFrom(flags.threads ?? process.env.XRAYGPT_THREADS),
    replicas: replicasFrom(flags.replicas) ?? defaults.replicas,
    log,
  });
}

/** A flag's integer value in min..max (undefined when not given); `what` names it in the error. */
function integerIn(v: string | boolean | undefined, min: number, max: number, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`${what} needs an integer from ${min} to ${max} (got ${String(v)})`);
  return n;
}

function replicasFrom(v: string | boolean | undefined): number | "auto" | undefined {
  return v === "auto" ? "auto" : integerIn(v, 1, 16, "--replicas (auto or a number)");
}

function threadsFrom(v: string | boolean | undefined): number | undefined {
  return integerIn(v, 1, 256, "--threads (or XRAYGPT_THREADS)");
}

/** Reads a generation setting flag as a number, with a usage error when it isn't one. */
export function numberFlag(flags: Record<string, string | boolean>, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isFinite(n)) throw new UsageError(`--${name} needs a number (got ${String(v)})`);
  return n;
}

export const GENERATION_FLAGS = ["max-tokens", "temperature", "seed", "candidates", "quorum"];
export const GENERATION_HELP = `  --max-tokens N      most tokens to generate
  --temperature T     0 = greedy (the model's default otherwise)
  --seed N            sampling seed
  --candidates N      consensus decoding over N candidates; 1 streams one generation
                      (the model's default otherwise)
  --quorum Q          consensus decoding: once this fraction of the candidates has finished,
                      the rest are cut (0 < Q <= 1; the model's default otherwise)`;

export function generationFromFlags(flags: Record<string, string | boolean>) {
  return { maxTokens: numberFlag(flags, "max-tokens"), temperature: numberFlag(flags, "temperature"), seed: numberFlag(flags, "seed"), candidates: numberFlag(flags, "candidates"), candidateQuorum: numberFlag(flags, "quorum") };
}

/**
 * llama.cpp's own tools built by scripts/build-llama-server.sh from the sources node-llama-cpp
 * ships, in a cache outside the clone: where a test finds them (an environment variable wins).
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const LLAMA_CPP_TAG = "v0.4.0";

/** Path of `name` (e.g. "llama-server") in the build cache, or `process.env[envVar]` when set. */
export function llamaCppBin(name: string, envVar: string): string {
  return process.env[envVar] ?? join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "xraygpt", `llama-server-${LLAMA_CPP_TAG}`, "build", "bin", name);
}

/** false when the binary is there, else the reason a test skips. */
export function llamaCppSkip(bin: string, name: string, envVar: string): false | string {
  return existsSync(bin) ? false : `${name} is not built (run scripts/build-llama-server.sh, or set ${envVar})`;
}

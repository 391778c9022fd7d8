/**
 * llama.cpp's own `llama-mtmd-cli` (built by scripts/build-llama-server.sh) driven from tests: its
 * greedy answer about one image, and plain runs (exit status and log) for the failure cases.
 *
 * The CLI logs (its answer too) through llama.cpp's asynchronous logger, which it leaks on purpose
 * (common/log.cpp, llama.cpp issue 22142): what is still queued when the process exits is lost, so
 * the answer of a `-p` run can come out cut short or empty, and a failing run's stderr can miss its
 * last lines. The answer is therefore read from the chat mode: the "\n> " prompt the CLI logs after
 * an answer means the answer is all out; only then is /quit sent. (The chat mode echoes what it reads.)
 */
import { spawn, spawnSync } from "node:child_process";
import { llamaCppBin, llamaCppSkip } from "./llama-cpp-bin.js";

export const MTMD_CLI_BIN = llamaCppBin("llama-mtmd-cli", "XRAYGPT_LLAMA_MTMD_CLI");
export const mtmdCliSkip = (): false | string => llamaCppSkip(MTMD_CLI_BIN, "llama-mtmd-cli", "XRAYGPT_LLAMA_MTMD_CLI");

export interface MtmdCliRequest {
  gguf: string;
  mmproj: string;
  /** An image file the CLI reads (PNG, JPEG, ...). */
  image: string;
  /** The user's message; mtmd puts the image before it, and the GGUF's chat template around both. */
  prompt: string;
  /** Tokens to generate (default 24). */
  nPredict?: number;
}

const args = (r: MtmdCliRequest) => ["-m", r.gguf, "--mmproj", r.mmproj, "-n", String(r.nPredict ?? 24), "--temp", "0", "-c", "512", "-t", "1", "--seed", "1"];
const MARK = "\n> ";

/** The CLI's greedy answer (latin1: the bytes as they are; a newline after it when an end-of-generation token ended it). */
export function mtmdCliGreedy(r: MtmdCliRequest, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(MTMD_CLI_BIN, args(r), { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let sent = 0;
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString("latin1");
      const marks = out.split(MARK).length - 1;
      if (marks >= 1 && sent === 0) p.stdin.write(`/image ${r.image}\n`), sent++;
      if (marks >= 2 && sent === 1) p.stdin.write(`${r.prompt}\n`), sent++;
      if (marks >= 3 && sent === 2) p.stdin.end("/quit\n"), sent++;
    });
    p.on("close", (code) => {
      clearTimeout(timer);
      if (sent < 3) return reject(new Error(`llama-mtmd-cli (exit ${code}) gave no answer: ${err.slice(-1500)}`));
      const end = out.split(MARK).slice(0, 3).join(MARK).length;
      const start = out.lastIndexOf(`${r.prompt}\n`, end) + r.prompt.length + 1;
      // The CLI logs a newline once the prompt is decoded, before the answer.
      resolve(out.slice(start, end).replace(/^\n/, ""));
    });
  });
}

/** One `-p` run: exit status and stderr (a failing run's stderr is retried, up to `tries`, until its last line got out). */
export function mtmdCliRun(r: MtmdCliRequest, tries = 5): { status: number | null; stderr: string } {
  let res = { status: null as number | null, stderr: "" };
  for (let i = 0; i < tries; i++) {
    const s = spawnSync(MTMD_CLI_BIN, [...args(r), "--image", r.image, "-p", r.prompt], { encoding: "utf8", timeout: 120_000 });
    res = { status: s.status, stderr: s.stderr };
    if (res.status === 0 || res.stderr.includes("Failed to load vision model")) break;
  }
  return res;
}

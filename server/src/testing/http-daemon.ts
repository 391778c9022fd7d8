/**
 * `xraygpt serve --http 127.0.0.1:0 ...` as a child process for tests: resolves once it prints
 * its URL (and the API key it made, if any); `stop()` sends SIGTERM and waits for the exit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));

export interface HttpDaemon {
  /** e.g. http://127.0.0.1:41234/v1 */
  url: string;
  /** The key it generated and printed, when it did. */
  printedKey?: string;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { XRAYGPT_THREADS: "1", ...env } });
}

export async function startHttpDaemon(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<HttpDaemon> {
  const child = runCli(["serve", "--http", "127.0.0.1:0", ...args], env);
  let stderr = "";
  child.stdout!.resume();
  child.stderr!.setEncoding("utf8");
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (d: string) => {
      stderr += d;
      const m = /OpenAI-compatible API on (\S+)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`serve --http exited (${code}) before listening:\n${stderr}`)));
  });
  const printedKey = /API key \([^)]*\): (\S+)/.exec(stderr)?.[1];
  return {
    url,
    ...(printedKey ? { printedKey } : {}),
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

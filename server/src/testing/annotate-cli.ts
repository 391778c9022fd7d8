/**
 * `xraygpt annotate ...` as a child process for tests, and a watch on the log it writes: the
 * kill-and-rerun scenarios (annotate/annotate-kill.test.ts, annotate/annotate-remote.test.ts).
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { runCli } from "./http-daemon.js";

export interface CliRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
}

/** Runs `xraygpt annotate ARGS` (the built CLI) with `env` added to this process's environment. */
export function runAnnotate(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = runCli(["annotate", ...args], { ...process.env, ...env });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<Awaited<CliRun["done"]>>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** The log's lines (none when it does not exist yet). */
export const logLines = (path: string): string[] => (existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : []);

/** Resolves once the log has `n` lines; rejects when `exited` settles first. */
export async function waitForLines(path: string, n: number, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  while (logLines(path).length < n) {
    if (gone) throw new Error(`the annotate process ended before writing ${n} records`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

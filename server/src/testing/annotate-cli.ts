/**
 * `xraygpt annotate ...` as a child process for tests, and a watch on the log it writes: the
 * kill-and-rerun scenarios (annotate/annotate-kill.test.ts, annotate/annotate-remote.test.ts).
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "./http-daemon.js";
import { writeSyntheticPng } from "./workspace.js";

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

/** A folder `dir/batch` of `count` synthetic radiographs cxr-00.png … (in the folder's order). */
export async function writeBatch(dir: string, count: number): Promise<{ batch: string; images: string[] }> {
  const batch = join(dir, "batch");
  mkdirSync(batch);
  const images: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = join(batch, `cxr-${String(i).padStart(2, "0")}.png`);
    await writeSyntheticPng(p, i, 64, 56);
    images.push(p);
  }
  return { batch, images };
}

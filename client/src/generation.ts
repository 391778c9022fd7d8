/**
 * Runs one streamed request (summarize or chat) with a jobId: tokens go to `onToken`, VS Code
 * cancellation becomes `$/cancelRequest`, and the outcome says whether the text is complete or
 * interrupted (cancelled, or the daemon failed) — the caller keeps the partial text either way.
 */
import * as vscode from "vscode";
import type { ProgressParams, TokenParams } from "@xraygpt/protocol";
import type { Daemon } from "./daemon.js";
import type { JobRouter } from "./jobs.js";
import { daemonStopped, DAEMON_STOPPED, requestErrorMessage } from "./request-error.js";

export type Outcome<R> = { ok: true; result: R; cancelled: boolean } | { ok: false; reason: string };

export async function runJob<R extends { stopReason: string }>(
  daemon: Daemon,
  jobs: JobRouter,
  send: (jobId: string, token: vscode.CancellationToken) => Promise<R>,
  hooks: { onToken(text: string, p: TokenParams): void; onProgress?(p: ProgressParams): void },
  token: vscode.CancellationToken,
): Promise<Outcome<R>> {
  const job = jobs.start({ onToken: (t, _i, p) => hooks.onToken(t, p), ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}) });
  try {
    const result = await send(job.jobId, token);
    return { ok: true, result, cancelled: result.stopReason === "cancelled" };
  } catch (e) {
    if (token.isCancellationRequested) return { ok: false, reason: "cancelled" };
    return { ok: false, reason: daemonStopped(e) || daemon.state !== "running" ? DAEMON_STOPPED : requestErrorMessage(e) };
  } finally {
    job.end();
  }
}

/**
 * What to tell the user when a request to the daemon failed: the daemon's own error message, or —
 * when the connection went away with the request pending (the daemon stopped or was killed) —
 * that the daemon stopped, so they re-run it once the extension has reconnected.
 */
import { ConnectionError, ErrorCodes, ResponseError } from "vscode-jsonrpc";

export const DAEMON_STOPPED = "the XrayGPT daemon stopped; it is being restarted — run this again";

export function daemonStopped(e: unknown): boolean {
  return (e instanceof ResponseError && e.code === ErrorCodes.PendingResponseRejected) || e instanceof ConnectionError;
}

export function requestErrorMessage(e: unknown): string {
  if (daemonStopped(e)) return DAEMON_STOPPED;
  return e instanceof Error ? e.message : String(e);
}

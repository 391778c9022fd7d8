/**
 * One client's JSON-RPC (LSP base protocol) connection whose end is its own. vscode-languageserver's
 * node `createConnection` exits the whole process when its input ends or closes, when the
 * `initialize` processId stops running and on `exit`; a shared daemon must not. Here each of those
 * ends this connection only: `ended` aborts (cancelling the client's pending requests) and the
 * caller decides whether the daemon goes too (stdio: yes; a socket client: no).
 */
import type { Readable, Writable } from "node:stream";
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type Connection, type Logger } from "vscode-languageserver/node.js";
import { createConnection as createServerConnection, type WatchDog } from "vscode-languageserver/lib/common/server.js";
import { deadState, hasProc, procStat } from "../util/proc.js";

/** How often a client's `initialize` processId is checked (the library's own interval is 3 s). */
const WATCH_INTERVAL_MS = 2000;

export type EndReason = "closed" | "exit" | "client process gone";

export interface ClientConnection {
  connection: Connection;
  /** Aborts when the connection ends, for any reason. */
  ended: AbortSignal;
  /** Resolves with why the connection ended. */
  done: Promise<EndReason>;
  /** End the connection (the daemon is stopping). */
  end(): void;
}

/** True while `pid` names a running process (a zombie, which PID 1 may leave unreaped, is not). */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  const st = hasProc() ? procStat(pid) : undefined;
  return st ? !deadState(st.state) : !hasProc(); // no /proc (macOS): kill(pid, 0) is all we have
}

/**
 * The library logs a failed reply (the client hung up before its answer) to the client's console,
 * which throws once the connection is gone; such lines are dropped instead.
 */
function quietLogger(remote: Logger): Logger {
  const safe = (f: (m: string) => void) => (m: string) => {
    try {
      f.call(remote, m);
    } catch {
      // the client has gone
    }
  };
  return { error: safe(remote.error), warn: safe(remote.warn), info: safe(remote.info), log: safe(remote.log) };
}

export function createClientConnection(input: Readable, output: Writable): ClientConnection {
  const ac = new AbortController();
  let resolveDone!: (r: EndReason) => void;
  const done = new Promise<EndReason>((r) => (resolveDone = r));
  let watch: NodeJS.Timeout | undefined;
  const finish = (reason: EndReason) => {
    if (ac.signal.aborted) return;
    clearInterval(watch);
    ac.abort();
    resolveDone(reason);
    // Let a reply already written (e.g. to `shutdown`) go out before the streams are torn down.
    setImmediate(() => {
      connection.dispose();
      input.destroy();
      if (output !== (input as unknown)) output.destroy();
    });
  };
  const watchDog: WatchDog = {
    shutdownReceived: false,
    initialize(params) {
      const pid = params.processId;
      if (typeof pid !== "number" || watch) return;
      watch = setInterval(() => processRunning(pid) || finish("client process gone"), WATCH_INTERVAL_MS);
      watch.unref();
    },
    exit: () => finish("exit"),
  };
  // MessageReader/Writer objects (not the streams themselves) keep the library's exit-on-close hooks out.
  const reader = new StreamMessageReader(input);
  const writer = new StreamMessageWriter(output);
  const connection = createServerConnection((logger) => createProtocolConnection(reader, writer, quietLogger(logger)), watchDog) as Connection;
  reader.onClose(() => finish("closed"));
  input.once("end", () => finish("closed"));
  input.once("close", () => finish("closed"));
  // A write to a client that hung up fails; the close above ends the connection.
  output.on("error", () => finish("closed"));
  return { connection, ended: ac.signal, done, end: () => finish("closed") };
}

/**
 * A shared daemon for tests and the bench: `node server/dist/cli.js serve --socket PATH` as a child
 * process, and JSON-RPC clients connected to it (initialized, like an editor window).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from "vscode-jsonrpc/node.js";

const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));

export interface SocketDaemon {
  child: ChildProcess;
  path: string;
  /** Everything the daemon wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code once the daemon has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
}

export interface SocketClient {
  rpc: MessageConnection;
  socket: Socket;
  /** Resolves when the daemon's side of the socket closes. */
  closed: Promise<void>;
}

/** Starts the daemon and waits until it listens (rejects with its stderr if it exits first). */
export async function startSocketDaemon(path: string, args: string[], env: NodeJS.ProcessEnv = { ...process.env, XRAYGPT_THREADS: "1" }): Promise<SocketDaemon> {
  const child = spawn(process.execPath, [CLI, "serve", "--socket", path, ...args], { stdio: ["ignore", "ignore", "pipe"], env });
  let err = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => err.includes(`listening on ${path}`) && (clearInterval(t), resolve()), 25);
    void exited.then((code) => (clearInterval(t), reject(new Error(`daemon exited ${code}: ${err}`))));
  });
  return {
    child,
    path,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A client connected to `path`; `initialize` with `processId` (default: this process) unless null. */
export async function connectClient(path: string, processId: number | null | undefined = process.pid): Promise<SocketClient> {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => (socket.once("connect", resolve), socket.once("error", reject)));
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  socket.on("error", () => undefined);
  const rpc = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  rpc.listen();
  if (processId !== null) {
    await rpc.sendRequest("initialize", { processId, rootUri: null, capabilities: {} });
    await rpc.sendNotification("initialized", {});
  }
  return { rpc, socket, closed };
}

/**
 * A daemon for tests: `node server/dist/cli.js serve --stdio` as a child process with a JSON-RPC
 * connection to it, initialized; `stop()` shuts it down (shutdown + exit) and waits for the exit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from "vscode-jsonrpc/node.js";

const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));

export interface StdioDaemon {
  rpc: MessageConnection;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `args` go after the daemon's own; `wrapper` runs it under another command (e.g. `strace -f -o LOG`). */
export async function startStdioDaemon(modelsDir: string, model: string, env: NodeJS.ProcessEnv = { ...process.env, XRAYGPT_THREADS: "1" }, args: string[] = [], wrapper: string[] = []): Promise<StdioDaemon> {
  const argv = [process.execPath, CLI, "serve", "--stdio", "--models-dir", modelsDir, "--model", model, ...args];
  const [command, ...rest] = [...wrapper, ...argv] as [string, ...string[]];
  const child = spawn(command, rest, { stdio: ["pipe", "pipe", "pipe"], env });
  child.stderr!.resume();
  const rpc = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  rpc.listen();
  await rpc.sendRequest("initialize", { processId: process.pid, rootUri: null, capabilities: {} });
  await rpc.sendNotification("initialized", {});
  return {
    rpc,
    child,
    async stop() {
      await rpc.sendRequest("shutdown").catch(() => undefined);
      await rpc.sendNotification("exit").catch(() => undefined);
      rpc.dispose();
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
    },
  };
}

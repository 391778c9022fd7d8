import { connect } from "node:net";
import { resolve } from "node:path";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node.js";
import { StatusRequest, type ServerStatus } from "@xraygpt/protocol";
import { defaultSocketPath, socketPathProblem } from "@xraygpt/protocol/socket-path";
import { parseArgs, UsageError, type CliCommand } from "../command.js";

/** The status as lines: daemon, models, device, queue, and each remote endpoint's health. */
export function formatStatus(s: ServerStatus): string {
  const lines = [
    `xraygpt daemon ${s.version} (pid ${s.pid}): ${s.health}${s.message ? ` — ${s.message}` : ""}`,
    `  default model: ${s.defaultModel ?? "none"}; loaded: ${s.loadedModels.join(", ") || "none"}`,
    `  device: vision ${s.device.vision}, LLM ${s.device.llm}${s.device.detail ? ` (${s.device.detail})` : ""}`,
    `  queue: ${s.queue.running} running, ${s.queue.queued} queued`,
  ];
  for (const r of s.remote ?? []) {
    lines.push(`  endpoints of ${r.model}:`);
    for (const e of r.endpoints)
      lines.push(
        `    ${e.url}  ${e.up ? "up" : "DOWN"}  ${e.inFlight} in flight` +
          (e.up ? "" : `  ${e.failures} failure${e.failures === 1 ? "" : "s"} in a row${e.retryInMs !== undefined ? `, retried in ${Math.ceil(e.retryInMs / 1000)} s` : ", retried at the next request"}: ${e.lastError ?? "?"}`),
      );
  }
  return lines.join("\n") + "\n";
}

export const command: CliCommand = {
  name: "status",
  summary: "the running shared daemon's status: models, device, queue, health of remote endpoints",
  help: `Usage: xraygpt status [--socket PATH] [--json]

Asks the daemon listening on the socket (default: the shared one, ${defaultSocketPath()})
for its status: version, health, loaded models, devices, queue, and for each resident model
served elsewhere the health of every endpoint (up or down, requests in flight, the last error
and when it is tried again). The socket must pass the same ownership checks as \`serve\`.

Options:
  --socket PATH   the daemon's socket (default: the shared one)
  --json          the status as JSON (the protocol's ServerStatus)`,
  async run(args, io) {
    const { flags, positionals } = parseArgs(args, { strings: ["socket"], booleans: ["json"] });
    if (flags.help) return io.stdout(this.help + "\n"), 0;
    if (positionals.length) throw new UsageError("status takes no arguments");
    const path = typeof flags.socket === "string" ? resolve(flags.socket) : defaultSocketPath();
    const problem = socketPathProblem(path);
    if (problem) return io.stderr(`xraygpt status: ${problem}\n`), 1;
    const socket = connect(path);
    try {
      await new Promise<void>((ok, fail) => (socket.once("connect", ok), socket.once("error", fail)));
    } catch (e) {
      io.stderr(`xraygpt status: no daemon answers on ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); start one with \`xraygpt serve --shared\`\n`);
      return 1;
    }
    const rpc = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
    rpc.listen();
    try {
      await rpc.sendRequest("initialize", { processId: process.pid, rootUri: null, capabilities: {} });
      await rpc.sendNotification("initialized", {});
      const s = await rpc.sendRequest(StatusRequest, {});
      io.stdout(flags.json ? JSON.stringify(s, null, 2) + "\n" : formatStatus(s));
      return s.remote?.some((r) => r.endpoints.some((e) => !e.up)) || s.health === "error" ? 2 : 0;
    } finally {
      rpc.dispose();
      socket.destroy();
    }
  },
};

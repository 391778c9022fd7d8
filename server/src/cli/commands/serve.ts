import { resolve } from "node:path";
import { lstatSync } from "node:fs";
import { parseArgs, UsageError, type CliCommand } from "../command.js";
import { ENGINE_FLAGS, ENGINE_HELP, engineFromFlags } from "../engine-flags.js";
import { serveSocket, serveStdio } from "../../daemon/server.js";

export const command: CliCommand = {
  name: "serve",
  summary: "run the daemon (JSON-RPC / LSP base protocol) on stdio or a local socket",
  help: `Usage: xraygpt serve [--stdio | --socket PATH] [options]

Runs the long-lived daemon that keeps models resident. With --socket, every editor window
that connects shares the same models. Logs go to stderr.

Options:
  --stdio             serve on stdin/stdout (default)
  --socket PATH       serve on a Unix domain socket
${ENGINE_HELP}`,
  async run(args, io) {
    const { flags } = parseArgs(args, { strings: [...ENGINE_FLAGS, "socket"], booleans: ["stdio", "node-ipc"] });
    if (flags.help) return io.stdout(this.help + "\n"), 0;
    const log = (line: string) => io.stderr(`[xraygpt ${new Date().toISOString()}] ${line}\n`);
    const engine = engineFromFlags(flags, log);
    if (typeof flags.socket === "string") {
      const socketPath = resolve(flags.socket);
      // Only a stale socket may be replaced: never delete a regular file (or anything else) there.
      const existing = lstatSync(socketPath, { throwIfNoEntry: false });
      if (existing && !existing.isSocket()) throw new UsageError(`--socket ${socketPath}: exists and is not a socket; refusing to replace it (choose another path)`);
      const served = await serveSocket(engine, socketPath, log);
      await new Promise<void>((done) => {
        const stop = () => void served.close().then(done);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      log("stopped");
      await engine.dispose();
      return 0;
    }
    serveStdio(engine, log);
    await new Promise<never>(() => undefined);
    return 0;
  },
};

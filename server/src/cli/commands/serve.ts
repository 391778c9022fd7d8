import { resolve } from "node:path";
import { defaultSocketPath } from "@xraygpt/protocol/socket-path";
import { parseArgs, UsageError, type CliCommand } from "../command.js";
import { ENGINE_FLAGS, ENGINE_HELP, engineFromFlags } from "../engine-flags.js";
import { serveSocket, serveStdio } from "../../daemon/server.js";

export const command: CliCommand = {
  name: "serve",
  summary: "run the daemon (JSON-RPC / LSP base protocol) on stdio or a local socket",
  help: `Usage: xraygpt serve [--stdio | --socket PATH | --shared] [options]

Runs the long-lived daemon that keeps models resident. With --socket, every editor window
that connects shares the same models; a client that disconnects (or sends exit) ends its own
connection only. The socket daemon stops on SIGINT/SIGTERM, or with --exit-when-idle once no
client has been connected for a while. Logs go to stderr.

Options:
  --stdio             serve on stdin/stdout (default); stops when the client does
  --socket PATH       serve on a Unix domain socket (mode 0600); its folder must be yours and
                      writable by you only; an existing file there is never replaced
  --shared            serve on the default socket: ${defaultSocketPath()}
  --exit-when-idle    with a socket: stop when no client has been connected for --idle-seconds
  --idle-seconds N    how long --exit-when-idle waits (default 30)
${ENGINE_HELP}`,
  async run(args, io) {
    const { flags } = parseArgs(args, { strings: [...ENGINE_FLAGS, "socket", "idle-seconds"], booleans: ["stdio", "node-ipc", "shared", "exit-when-idle"] });
    if (flags.help) return io.stdout(this.help + "\n"), 0;
    const idleSeconds = flags["idle-seconds"] === undefined ? 30 : Number(flags["idle-seconds"]);
    if (!Number.isFinite(idleSeconds) || idleSeconds < 0) throw new UsageError(`--idle-seconds must be a number of seconds (got ${flags["idle-seconds"]})`);
    const log = (line: string) => io.stderr(`[xraygpt ${new Date().toISOString()}] ${line}\n`);
    const socketPath = typeof flags.socket === "string" ? resolve(flags.socket) : flags.shared ? defaultSocketPath() : undefined;
    if (!socketPath) {
      serveStdio(engineFromFlags(flags, log), log);
      await new Promise<never>(() => undefined);
    }
    const engine = engineFromFlags(flags, log);
    await new Promise<void>((done, fail) => {
      let stop = () => undefined as void;
      serveSocket(engine, socketPath!, log, flags["exit-when-idle"] ? { idleMs: idleSeconds * 1000, onIdle: () => stop() } : {}).then((served) => {
        stop = () => void served.close().then(done);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      }, fail);
    });
    log("stopped");
    await engine.dispose();
    return 0;
  },
};

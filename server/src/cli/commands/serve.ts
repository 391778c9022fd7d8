import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defaultSocketPath } from "@xraygpt/protocol/socket-path";
import { parseArgs, UsageError, type CliCommand } from "../command.js";
import { ENGINE_FLAGS, ENGINE_HELP, engineFromFlags } from "../engine-flags.js";
import { serveSocket, serveStdio } from "../../daemon/server.js";
import { serveHttp } from "../../http/http-server.js";
import { isLoopback, parseListenAddress } from "../../http/listen-address.js";
import { apiKeyFile, loadOrCreateApiKey } from "../../http/api-key.js";

export const command: CliCommand = {
  name: "serve",
  summary: "run the daemon (JSON-RPC on stdio or a local socket; an OpenAI-compatible HTTP API)",
  help: `Usage: xraygpt serve [--stdio | --socket PATH | --shared] [--http [HOST:]PORT] [options]

Runs the long-lived daemon that keeps models resident. With --socket, every editor window
that connects shares the same models; a client that disconnects (or sends exit) ends its own
connection only. --http serves the same engine as an OpenAI-compatible API (alongside --socket,
or alone). The daemon stops on SIGINT/SIGTERM, or with --exit-when-idle once no socket client
has been connected for a while. Logs go to stderr.

Options:
  --stdio             serve on stdin/stdout (default when neither --socket nor --http); stops
                      when the client does
  --socket PATH       serve on a Unix domain socket (mode 0600); its folder must be yours and
                      writable by you only; an existing file there is never replaced
  --shared            serve on the default socket: ${defaultSocketPath()}
  --exit-when-idle    with a socket: stop when no client has been connected for --idle-seconds
  --idle-seconds N    how long --exit-when-idle waits (default 30)
  --http [HOST:]PORT  OpenAI-compatible API (GET /v1/models, POST /v1/chat/completions);
                      HOST defaults to 127.0.0.1
  --api-key-env NAME  the API key is in environment variable NAME (default: a key made on
                      first start, kept in $XDG_CONFIG_HOME/xraygpt/api-key, else
                      ~/.config/xraygpt/api-key (mode 0600), and printed)
  --no-auth           no API key (only with a loopback HOST)
  --allow-file-urls DIRS  accept file:// image URLs under these folders (comma-separated)
  --cors-origin ORIGIN    allow this browser origin (no CORS headers by default)
  --max-body-mb N     largest request body (default 32)
  --max-in-flight N   requests queued or running at once; more get 429 (default 32)
${ENGINE_HELP}`,
  async run(args, io) {
    const { flags } = parseArgs(args, {
      strings: [...ENGINE_FLAGS, "socket", "idle-seconds", "http", "api-key-env", "allow-file-urls", "cors-origin", "max-body-mb", "max-in-flight"],
      booleans: ["stdio", "node-ipc", "shared", "exit-when-idle", "no-auth"],
    });
    if (flags.help) return io.stdout(this.help + "\n"), 0;
    const idleSeconds = flags["idle-seconds"] === undefined ? 30 : Number(flags["idle-seconds"]);
    if (!Number.isFinite(idleSeconds) || idleSeconds < 0) throw new UsageError(`--idle-seconds must be a number of seconds (got ${flags["idle-seconds"]})`);
    const log = (line: string) => io.stderr(`[xraygpt ${new Date().toISOString()}] ${line}\n`);
    const socketPath = typeof flags.socket === "string" ? resolve(flags.socket) : flags.shared ? defaultSocketPath() : undefined;
    // Images sent as data: URLs are written here for the pipeline (so --allow-root must allow it).
    const tempDir = typeof flags.http === "string" ? await mkdtemp(join(tmpdir(), "xraygpt-http-")) : undefined;
    const engine = engineFromFlags(flags, log, tempDir ? [tempDir] : []);
    if (!socketPath && !tempDir) {
      serveStdio(engine, log);
      await new Promise<never>(() => undefined);
    }
    await new Promise<void>((done, fail) => {
      const stops: (() => Promise<void>)[] = [];
      const stop = () => void Promise.all(stops.map((s) => s())).then(() => done());
      (async () => {
        if (tempDir) stops.push((await startHttp(engine, flags, tempDir, log)).close);
        if (socketPath) stops.push((await serveSocket(engine, socketPath, log, flags["exit-when-idle"] ? { idleMs: idleSeconds * 1000, onIdle: stop } : {})).close);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      })().catch(fail);
    });
    log("stopped");
    await engine.dispose();
    return 0;
  },
};

async function startHttp(engine: Parameters<typeof serveHttp>[0], flags: Record<string, string | boolean>, tempDir: string, log: (line: string) => void) {
  let address;
  try {
    address = parseListenAddress(flags.http as string);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let apiKey: string | undefined;
  if (flags["no-auth"]) {
    if (typeof flags["api-key-env"] === "string") throw new UsageError("--no-auth and --api-key-env exclude each other");
    if (!isLoopback(address.host)) throw new UsageError(`--no-auth is only allowed with a loopback address (127.0.0.1, ::1, localhost), not ${address.host}`);
  } else if (typeof flags["api-key-env"] === "string") {
    apiKey = process.env[flags["api-key-env"]];
    if (!apiKey) throw new UsageError(`--api-key-env ${flags["api-key-env"]}: that environment variable is not set`);
  } else {
    const file = apiKeyFile();
    const made = await loadOrCreateApiKey(file);
    apiKey = made.key;
    log(`API key (${made.created ? "new, saved in" : "from"} ${file}): ${apiKey}`);
  }
  const mb = flags["max-body-mb"] === undefined ? 32 : Number(flags["max-body-mb"]);
  if (!(mb > 0)) throw new UsageError(`--max-body-mb needs a positive number (got ${String(flags["max-body-mb"])})`);
  const maxInFlight = flags["max-in-flight"] === undefined ? 32 : Number(flags["max-in-flight"]);
  if (!(Number.isInteger(maxInFlight) && maxInFlight > 0)) throw new UsageError(`--max-in-flight needs a positive integer (got ${String(flags["max-in-flight"])})`);
  const fileRoots = typeof flags["allow-file-urls"] === "string" ? flags["allow-file-urls"].split(",").filter(Boolean).map((d) => resolve(d)) : undefined;
  return serveHttp(engine, {
    address,
    apiKey,
    tempDir,
    maxBodyBytes: Math.round(mb * 1024 * 1024),
    maxInFlight,
    ...(fileRoots ? { fileRoots } : {}),
    ...(typeof flags["cors-origin"] === "string" ? { corsOrigin: flags["cors-origin"] } : {}),
    log,
  });
}

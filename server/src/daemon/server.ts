/**
 * The daemon: one JSON-RPC (LSP base protocol) connection per client — stdio, or each socket
 * connection of `serve --socket` — all sharing one engine, so windows share resident models.
 * Bad requests get specific errors; nothing a request does can take the daemon down. A socket
 * client that hangs up, sends `exit` or names a dead processId ends its own connection only: the
 * socket daemon stops on a signal, or when no client is left if asked to (`--exit-when-idle`).
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { chmodSync, rmSync } from "node:fs";
import {
  TextDocuments,
  TextDocumentSyncKind,
  type CancellationToken,
  type InitializeResult,
  type NotificationType,
  type ServerCapabilities,
} from "vscode-languageserver/node.js";
import { TextDocument } from "vscode-languageserver-textdocument";
import {
  ChatEndRequest,
  ChatRequest,
  DecodeImageRequest,
  FindingsRequest,
  LoadModelRequest,
  ModelsRequest,
  ProgressNotification,
  ServerStatusNotification,
  StatusRequest,
  SummarizeRequest,
  TokenNotification,
  UnloadModelRequest,
} from "@xraygpt/protocol";
import { defaultSocketPath, socketPathProblem } from "@xraygpt/protocol/socket-path";
import type { Engine, JobHooks } from "../engine/types.js";
import type { ParamSpec } from "./params.js";
import { abortSignal, makeHandler, type Log } from "./rpc-handler.js";
import { registerReportFeatures } from "./report/index.js";
import { registerResearchRequests } from "./research.js";
import { createClientConnection, type ClientConnection } from "./connection.js";

const jobSpec: ParamSpec = { jobId: "string", image: "string", model: "string?", prompt: "string?", generation: "object?" };

let clientCount = 0;

/** Wire one client's connection to the engine; `id` names the client in the engine's queue. */
export function attachConnection(client: ClientConnection, engine: Engine, log: Log, id = `client-${++clientCount}`): void {
  const { connection, ended } = client;
  /** Notifications to a client that has gone are dropped. */
  const notify = <P>(type: NotificationType<P>, params: P): void => {
    if (ended.aborted) return;
    try {
      void connection.sendNotification(type, params).catch(() => undefined);
    } catch {
      // the connection closed between the check and the write
    }
  };
  const documents = new TextDocuments(TextDocument);
  let reportCapabilities: ServerCapabilities = {};

  connection.onInitialize((): InitializeResult => ({
    capabilities: { textDocumentSync: TextDocumentSyncKind.Incremental, ...reportCapabilities },
    serverInfo: { name: "xraygpt", version: engine.status().version },
  }));
  reportCapabilities = registerReportFeatures(connection, documents, engine);

  /** Streams a job's tokens and progress as notifications tagged with its id; cancels with the request. */
  const jobHooks = (jobId: string, token: CancellationToken): JobHooks => ({
    signal: abortSignal(token),
    client: id,
    onToken: (text, index, flags) => notify(TokenNotification, { jobId, text, index, ...flags }),
    onProgress: (pr) => notify(ProgressNotification, { jobId, ...pr }),
  });

  const handle = makeHandler(log, ended);

  connection.onRequest(
    SummarizeRequest,
    handle("summarize", jobSpec, async (p: import("@xraygpt/protocol").SummarizeParams, token) => {
      const { jobId, ...rest } = p;
      return { jobId, ...(await engine.summarize(rest, jobHooks(jobId, token))) };
    }),
  );
  connection.onRequest(
    ChatRequest,
    handle("chat", { ...jobSpec, message: "string", sessionId: "string?" }, async (p: import("@xraygpt/protocol").ChatParams, token) => {
      const { jobId, ...rest } = p;
      return { jobId, ...(await engine.chat(rest, jobHooks(jobId, token))) };
    }),
  );
  connection.onRequest(ChatEndRequest, handle("chatEnd", { sessionId: "string" }, async (p: { sessionId: string }) => ({ ended: await engine.endChat(p.sessionId) })));
  connection.onRequest(FindingsRequest, handle("findings", { image: "string", model: "string?", heatmap: "boolean?", heatmapFinding: "string?" }, (p: import("@xraygpt/protocol").FindingsParams) => engine.findings(p)));
  connection.onRequest(
    DecodeImageRequest,
    handle("decodeImage", { image: "string", maxSize: "number?", includePatientTags: "boolean?" }, (p: import("@xraygpt/protocol").DecodeImageParams) => engine.decode(p)),
  );
  connection.onRequest(ModelsRequest, handle("models", {}, async () => ({ models: await engine.listModels() })));
  connection.onRequest(LoadModelRequest, handle("loadModel", { model: "string" }, (p: { model: string }) => engine.loadModel(p.model)));
  connection.onRequest(UnloadModelRequest, handle("unloadModel", { model: "string" }, (p: { model: string }) => engine.unloadModel(p.model)));
  connection.onRequest(StatusRequest, () => engine.status());
  registerResearchRequests(connection, engine, log, { id, ended });

  const unsubscribe = engine.onStatus((s) => notify(ServerStatusNotification, s));
  ended.addEventListener("abort", unsubscribe, { once: true });
  documents.listen(connection);
  connection.listen();
}

/** Serve over this process's stdin/stdout: the client's end (`exit`, stdin closed, its process gone) is the daemon's. */
export function serveStdio(engine: Engine, log: Log): void {
  const client = createClientConnection(process.stdin, process.stdout);
  attachConnection(client, engine, log, "stdio");
  void client.done.then(async (reason) => {
    log(`client ${reason}; stopping`);
    await engine.dispose();
    process.exit(0);
  });
}

/** True when something answers on the socket path (a daemon already serving there). */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => (probe.destroy(), resolve(true)));
    probe.once("error", () => resolve(false));
  });
}

export class SocketPathError extends Error {
  override name = "SocketPathError";
}

export interface SocketServer {
  server: Server;
  /** Clients connected now. */
  readonly clients: number;
  /** Stop listening, drop every client and remove the socket file. */
  close(): Promise<void>;
}

export interface SocketOptions {
  /** Called once no client has been connected for `idleMs` (from the start, or since the last one left). */
  onIdle?(): void;
  idleMs?: number;
}

/**
 * Serve on a local (Unix domain) socket; every connection shares the engine. The path must be in a
 * folder of this user's that nobody else can write (the default folder is created 0700); an
 * existing socket there is replaced only when nothing answers on it, and anything else is refused.
 */
export async function serveSocket(engine: Engine, path: string, log: Log, opts: SocketOptions = {}): Promise<SocketServer> {
  const problem = socketPathProblem(path, { create: path === defaultSocketPath() });
  if (problem) throw new SocketPathError(problem);
  if (await socketInUse(path)) throw new SocketPathError(`a daemon is already serving on ${path}`);
  rmSync(path, { force: true }); // a stale socket of ours (socketPathProblem refuses anything else)
  const live = new Set<ClientConnection>();
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = () => {
    if (!opts.onIdle || live.size > 0) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      log(`no client for ${Math.round((opts.idleMs ?? 0) / 1000)} s; stopping`);
      opts.onIdle?.();
    }, opts.idleMs ?? 0);
  };
  const server = createServer((socket: Socket) => {
    clearTimeout(idleTimer);
    const client = createClientConnection(socket, socket);
    live.add(client);
    const id = `client-${++clientCount}`;
    log(`${id} connected (${live.size} now)`);
    attachConnection(client, engine, log, id);
    void client.done.then((reason) => {
      live.delete(client);
      log(`${id} ${reason === "closed" ? "disconnected" : `ended (${reason})`} (${live.size} left)`);
      armIdle();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  // Only this user may connect: the daemon reads any image its clients name.
  chmodSync(path, 0o600);
  log(`listening on ${path}`);
  armIdle();
  return {
    server,
    get clients() {
      return live.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearTimeout(idleTimer);
        server.close(() => resolve());
        for (const c of live) c.end();
      }),
  };
}

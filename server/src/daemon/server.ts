/**
 * The daemon: one JSON-RPC (LSP base protocol) connection per client — stdio, or each socket
 * connection of `serve --socket` — all sharing one engine, so windows share resident models.
 * Bad requests get specific errors; nothing a request does can take the daemon down.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { chmodSync, rmSync } from "node:fs";
import {
  createConnection,
  TextDocuments,
  TextDocumentSyncKind,
  type CancellationToken,
  type Connection,
  type InitializeResult,
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
import type { Engine, JobHooks } from "../engine/types.js";
import type { ParamSpec } from "./params.js";
import { abortSignal, makeHandler, type Log } from "./rpc-handler.js";
import { registerReportFeatures } from "./report/index.js";
import { registerResearchRequests } from "./research.js";

const jobSpec: ParamSpec = { jobId: "string", image: "string", model: "string?", prompt: "string?", generation: "object?" };

/** Wire one connection to the engine. */
export function attachConnection(connection: Connection, engine: Engine, log: Log): void {
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
    onToken: (text, index) => void connection.sendNotification(TokenNotification, { jobId, text, index }),
    onProgress: (pr) => void connection.sendNotification(ProgressNotification, { jobId, ...pr }),
  });

  const handle = makeHandler(log);

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
  connection.onRequest(FindingsRequest, handle("findings", { image: "string", model: "string?" }, (p: { image: string; model?: string }) => engine.findings(p)));
  connection.onRequest(
    DecodeImageRequest,
    handle("decodeImage", { image: "string", maxSize: "number?", includePatientTags: "boolean?" }, (p: import("@xraygpt/protocol").DecodeImageParams) => engine.decode(p)),
  );
  connection.onRequest(ModelsRequest, handle("models", {}, async () => ({ models: await engine.listModels() })));
  connection.onRequest(LoadModelRequest, handle("loadModel", { model: "string" }, (p: { model: string }) => engine.loadModel(p.model)));
  connection.onRequest(UnloadModelRequest, handle("unloadModel", { model: "string" }, (p: { model: string }) => engine.unloadModel(p.model)));
  connection.onRequest(StatusRequest, () => engine.status());
  registerResearchRequests(connection, engine, log);

  const unsubscribe = engine.onStatus((s) => void connection.sendNotification(ServerStatusNotification, s).catch(() => undefined));
  connection.onShutdown(() => unsubscribe());
  connection.onExit(() => unsubscribe());
  documents.listen(connection);
  connection.listen();
}

/** Serve over this process's stdin/stdout. Exits when the client sends `exit` or stdin closes. */
export function serveStdio(engine: Engine, log: Log): void {
  const connection = createConnection(process.stdin, process.stdout);
  connection.onShutdown(() => engine.dispose());
  connection.onExit(() => process.exit(0));
  attachConnection(connection, engine, log);
}

/** True when something answers on the socket path (a daemon already serving there). */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => (probe.destroy(), resolve(true)));
    probe.once("error", () => resolve(false));
  });
}

export interface SocketServer {
  server: Server;
  /** Stop listening, drop every client and remove the socket file. */
  close(): Promise<void>;
}

/** Serve on a local (Unix domain) socket; every connection shares the engine. */
export async function serveSocket(engine: Engine, path: string, log: Log): Promise<SocketServer> {
  if (await socketInUse(path)) throw new Error(`a daemon is already serving on ${path}`);
  rmSync(path, { force: true });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    log("client connected");
    const connection = createConnection(socket, socket);
    socket.on("close", () => (sockets.delete(socket), log("client disconnected")));
    attachConnection(connection, engine, log);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  // Only this user may connect: the daemon reads any image its clients name.
  chmodSync(path, 0o600);
  log(`listening on ${path}`);
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

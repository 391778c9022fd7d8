/**
 * `xraygpt serve --http`: an OpenAI-compatible API over the engine (GET /v1/models,
 * POST /v1/chat/completions). Loopback by default, a bearer token unless --no-auth (loopback
 * only), a body limit, no CORS unless an origin is named, and a cap on requests in flight (429).
 * Logs name the route, status and time only — never an image, a path or a tag.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Engine } from "../engine/types.js";
import { ApiError, apiError } from "./api-error.js";
import { bearerMatches } from "./api-key.js";
import { parseChatRequest } from "./chat-request.js";
import { ChatCompletions } from "./chat-completions.js";
import { requestImage } from "./image-url.js";
import { isLoopback, type ListenAddress } from "./listen-address.js";

export interface HttpServeOptions {
  address: ListenAddress;
  /** A private folder (0700) for images sent as data: URLs; made (and removed on close) when absent. */
  tempDir?: string;
  /** Required bearer token; undefined only with a loopback bind (--no-auth). */
  apiKey: string | undefined;
  /** Folders file:// image URLs may point into (off when absent). */
  fileRoots?: string[];
  /** Largest request body in bytes (default 32 MiB). */
  maxBodyBytes?: number;
  /** Requests in flight before 429 (default 32). */
  maxInFlight?: number;
  /** An Origin allowed by CORS (none by default). */
  corsOrigin?: string;
  log?(line: string): void;
}

export interface HttpServed {
  url: string;
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  if (Number(req.headers["content-length"] ?? 0) > limit) throw new ApiError(413, `the request body is larger than this server's limit of ${limit} bytes`, "request_too_large");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new ApiError(413, `the request body is larger than this server's limit of ${limit} bytes`, "request_too_large");
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (e) {
    throw new ApiError(400, `the request body is not valid JSON: ${(e as Error).message}`, "invalid_json");
  }
}

export async function serveHttp(engine: Engine, opts: HttpServeOptions): Promise<HttpServed> {
  if (opts.apiKey === undefined && !isLoopback(opts.address.host)) throw new Error(`--no-auth is only allowed on a loopback address (not ${opts.address.host})`);
  const limit = opts.maxBodyBytes ?? 32 * 1024 * 1024;
  const maxInFlight = opts.maxInFlight ?? 32;
  const tempDir = opts.tempDir ?? (await mkdtemp(join(tmpdir(), "xraygpt-http-")));
  const chat = new ChatCompletions(engine, opts.log);
  let inFlight = 0;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    // Mid-stream: an error event the OpenAI SDKs raise, then the end.
    if (res.headersSent) return void (String(res.getHeader("content-type")).startsWith("text/event-stream") && !res.writableEnded ? res.end(`data: ${JSON.stringify(body)}\n\n`) : res.destroy());
    res.writeHead(status, { "content-type": "application/json", ...(status === 401 ? { "www-authenticate": "Bearer" } : {}), ...(status === 429 ? { "retry-after": "1" } : {}) }).end(JSON.stringify(body));
  };

  // GET /v1/models rescans the model folders; a chat request checks its model against the last
  // scan and rescans only for a name it has not seen (no folder scan per request).
  let known = new Set<string>();
  const models = async () => {
    const list = (await engine.listModels()).filter((m) => m.available).map((m) => ({ id: m.id, object: "model", created: 0, owned_by: "xraygpt" }));
    known = new Set(list.map((m) => m.id));
    return list;
  };
  const isModel = async (id: string) => known.has(id) || (await models()).some((m) => m.id === id);

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (opts.apiKey !== undefined && !bearerMatches(req.headers.authorization, opts.apiKey)) throw new ApiError(401, "a valid API key is required (Authorization: Bearer <key>)", "invalid_api_key");
    if (path === "/v1/models" || path.startsWith("/v1/models/")) {
      if (req.method !== "GET") throw new ApiError(405, `${req.method} is not allowed on ${path}`, "method_not_allowed");
      const list = await models();
      if (path === "/v1/models") return send(res, 200, { object: "list", data: list });
      const one = list.find((m) => m.id === decodeURIComponent(path.slice("/v1/models/".length)));
      if (!one) throw new ApiError(404, `model ${path.slice("/v1/models/".length)} does not exist on this server`, "model_not_found");
      return send(res, 200, one);
    }
    if (path !== "/v1/chat/completions") throw new ApiError(404, `no route ${req.method} ${path}`, "not_found");
    if (req.method !== "POST") throw new ApiError(405, `${req.method} is not allowed on ${path}`, "method_not_allowed");
    if (inFlight >= maxInFlight) throw new ApiError(429, `this server already has ${inFlight} requests in flight; retry later`, "rate_limit_exceeded");
    inFlight++;
    try {
      const body = parseChatRequest(await readJson(req, limit));
      if (!(await isModel(body.model))) throw new ApiError(404, `model ${body.model} does not exist on this server (GET /v1/models lists them)`, "model_not_found");
      const image = await requestImage(body.imageUrl, { tempDir, ...(opts.fileRoots ? { fileRoots: opts.fileRoots } : {}) });
      const gone = new AbortController();
      res.on("close", () => res.writableFinished || gone.abort());
      try {
        await chat.handle(body, image.path, res, gone.signal);
      } catch (e) {
        // The temporary file's name means nothing to the client.
        const err = apiError(e);
        throw new ApiError(err.status, err.message.split(image.path).join("the image_url image"), err.code);
      } finally {
        await image.release();
      }
    } finally {
      inFlight--;
    }
  }

  const server: Server = createServer((req, res) => {
    const t = performance.now();
    const path = (req.url ?? "/").split("?")[0]!;
    if (opts.corsOrigin) {
      res.setHeader("access-control-allow-origin", opts.corsOrigin);
      res.setHeader("vary", "origin");
      if (req.method === "OPTIONS") {
        res.writeHead(204, { "access-control-allow-methods": "GET, POST", "access-control-allow-headers": "authorization, content-type", "access-control-max-age": "600" }).end();
        return;
      }
    }
    route(req, res, path)
      .catch((e) => {
        const err = apiError(e);
        if (err.status === 500) opts.log?.(`http ${req.method} ${path}: ${err.message}`);
        send(res, err.status, err.body());
        // Whatever the client still sends is not read.
        if (err.status === 413) req.socket.destroySoon?.();
      })
      .finally(() => opts.log?.(`http ${req.method} ${path} ${res.statusCode} ${(performance.now() - t).toFixed(0)} ms`));
  });
  server.requestTimeout = 0; // long generations stream for minutes
  // Idle keep-alive connections stay open longer than clients keep them (no reset races).
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.address.port, opts.address.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}/v1`;
  opts.log?.(`OpenAI-compatible API on ${url}${opts.apiKey === undefined ? " (no auth)" : ""}`);
  return {
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(tempDir, { recursive: true, force: true });
    },
  };
}

/**
 * Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) and a local HTTP
 * server for the media/ folder, so webview pages load as they do in VS Code: same HTML, same
 * CSP, with `acquireVsCodeApi` stubbed to record posted messages in `window.__posted`.
 */
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.XRAYGPT_CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/** The repository's media/ folder (client/out/testing → ../../../media). */
export const MEDIA_DIR = join(__dirname, "..", "..", "..", "media");

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

const TYPES: Record<string, string> = { ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html" };

export interface MediaServer {
  origin: string;
  /** Serves `html` at `/<name>` on this server. */
  setPage(name: string, html: string): string;
  close(): Promise<void>;
}

export async function serveMedia(): Promise<MediaServer> {
  const pages = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const page = pages.get(path);
    if (page !== undefined) {
      res.writeHead(200, { "content-type": "text/html" }).end(page);
      return;
    }
    if (path === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    const rel = normalize(path.replace(/^\/media\//, ""));
    if (!path.startsWith("/media/") || rel.startsWith("..")) {
      res.writeHead(404).end();
      return;
    }
    readFile(join(MEDIA_DIR, rel)).then(
      (b) => res.writeHead(200, { "content-type": TYPES[extname(rel)] ?? "application/octet-stream" }).end(b),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const origin = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  return {
    origin,
    setPage(name, html) {
      pages.set(`/${name}`, html);
      return `${origin}/${name}`;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Opens a page with a recording `acquireVsCodeApi` stub; collects CSP violations and page errors. */
export async function openWebview(browser: Browser, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __posted: unknown[]; __state: unknown; acquireVsCodeApi: () => unknown };
    w.__posted = [];
    w.acquireVsCodeApi = () => ({
      postMessage: (m: unknown) => w.__posted.push(m),
      getState: () => w.__state,
      setState: (s: unknown) => (w.__state = s),
    });
  });
  await page.goto(url);
  return { page, problems };
}

/** Delivers a message to the page as the extension's `webview.postMessage` would. */
/**
 * Posts `message` to the page as the extension would, and resolves once the page's message
 * handlers have run for it (a sentinel posted after it has arrived: same task source, in order).
 */
export function deliver(page: Page, message: unknown): Promise<void> {
  return page.evaluate(
    (m) =>
      new Promise<void>((resolve) => {
        const sentinel = `__delivered_${Math.random()}`;
        const on = (e: MessageEvent) => {
          if (e.data !== sentinel) return;
          window.removeEventListener("message", on);
          resolve();
        };
        window.addEventListener("message", on);
        window.postMessage(m, "*");
        window.postMessage(sentinel, "*");
      }),
    message,
  );
}

export function posted(page: Page): Promise<unknown[]> {
  return page.evaluate(() => (window as unknown as { __posted: unknown[] }).__posted.slice());
}

export interface WebviewPage {
  page: Page;
  problems: string[];
  close(): Promise<void>;
}

/**
 * Serves the page `html` builds (with this server as its CSP source and media origin), opens it
 * in a fresh headless Chromium, and waits until its script has posted its first message.
 */
export async function openWebviewPage(name: string, html: (r: { cspSource: string; mediaUri: string }) => string): Promise<WebviewPage> {
  const server = await serveMedia();
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server.close();
  };
  try {
    browser = await launchChromium();
    const url = server.setPage(name, html({ cspSource: server.origin, mediaUri: `${server.origin}/media` }));
    const { page, problems } = await openWebview(browser, url);
    await page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
    return { page, problems, close };
  } catch (e) {
    await close();
    throw e;
  }
}

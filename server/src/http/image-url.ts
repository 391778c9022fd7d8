/**
 * The image of an OpenAI request: a `data:` URL (written to a private temporary file for the
 * pipeline, removed after the request), or — only when the server names allowed folders — a
 * `file://` path inside one of them (so a DICOM on disk can be sent by path). Nothing is fetched
 * from the network.
 */
import { randomUUID } from "node:crypto";
import { realpath, rm, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiError } from "./api-error.js";

export interface ImageOptions {
  /** A folder only this process uses (0700), for data: URLs. */
  tempDir: string;
  /** Folders file:// URLs may point into; file:// URLs are refused when absent. */
  fileRoots?: string[];
}

export interface RequestImage {
  path: string;
  release(): Promise<void>;
}

const DATA_URL = /^data:([a-z0-9.+/-]*)((?:;[^;,]*)*),/i;

export async function requestImage(url: string, opts: ImageOptions): Promise<RequestImage> {
  if (url.startsWith("data:")) {
    const m = DATA_URL.exec(url);
    if (!m || !/;base64$/i.test(m[2]!)) throw new ApiError(400, "image_url data: URLs must be base64 (data:image/png;base64,...)", "invalid_image_url");
    const bytes = Buffer.from(url.slice(m[0].length), "base64");
    if (bytes.length === 0) throw new ApiError(400, "image_url data: URL holds no bytes", "invalid_image_url");
    const path = join(opts.tempDir, `image-${randomUUID()}`);
    await writeFile(path, bytes, { mode: 0o600 });
    return { path, release: () => rm(path, { force: true }) };
  }
  if (url.startsWith("file:")) {
    if (!opts.fileRoots?.length) throw new ApiError(400, "file:// image URLs are off on this server (start it with --allow-file-urls DIR to allow files under DIR)", "file_urls_not_allowed");
    let path: string;
    try {
      path = await realpath(fileURLToPath(url));
    } catch (e) {
      throw new ApiError(400, `image_url ${url}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (e as Error).message}`, "invalid_image_url");
    }
    const roots = await Promise.all(opts.fileRoots.map((r) => realpath(r).catch(() => r)));
    const inside = roots.some((r) => {
      const rel = relative(r, path);
      return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
    });
    if (!inside) throw new ApiError(400, `image_url ${url} is outside the folders this server allows file:// URLs from`, "file_url_not_allowed");
    return { path, release: async () => undefined };
  }
  throw new ApiError(400, "image_url must be a data: URL (or a file:// URL where the server allows them); this server fetches nothing", "invalid_image_url");
}

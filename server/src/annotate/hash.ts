/**
 * SHA-256 of a file's bytes. The digest runs in libuv's thread pool (WebCrypto), so hashing
 * large radiographs does not hold the event loop while images are decoded and generated. The
 * file is read like an image (util/safe-file.ts): regular files only, never blocking on open.
 */
import { webcrypto } from "node:crypto";
import { readRegularFile } from "../util/safe-file.js";

export async function sha256File(path: string): Promise<string> {
  const bytes = await readRegularFile(path, { what: "image" });
  return Buffer.from(await webcrypto.subtle.digest("SHA-256", bytes)).toString("hex");
}

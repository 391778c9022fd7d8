/**
 * SHA-256 of a file's bytes. The digest runs in libuv's thread pool (WebCrypto), so hashing
 * large radiographs does not hold the event loop while images are decoded and generated.
 */
import { webcrypto } from "node:crypto";
import { readFile } from "node:fs/promises";

export async function sha256File(path: string): Promise<string> {
  const bytes = await readFile(path);
  return Buffer.from(await webcrypto.subtle.digest("SHA-256", bytes)).toString("hex");
}

/**
 * The HTTP API's bearer token: from `--api-key-env NAME`, or generated on first start into
 * `<config>/xraygpt/api-key` (mode 0600; config: $XDG_CONFIG_HOME, else ~/.config) and reused.
 */
import { randomBytes, timingSafeEqual, createHash } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export function apiKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "xraygpt", "api-key");
}

/** The key in `file`, made (0600, folder 0700) when there is none. */
export async function loadOrCreateApiKey(file: string): Promise<{ key: string; created: boolean }> {
  const existing = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  if (existing?.trim()) {
    await chmod(file, 0o600);
    return { key: existing.trim(), created: false };
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const key = `xg-${randomBytes(24).toString("base64url")}`;
  await writeFile(file, key + "\n", { mode: 0o600, flag: "w" });
  await chmod(file, 0o600);
  return { key, created: true };
}

/** `Authorization: Bearer <key>` in constant time. */
export function bearerMatches(header: string | undefined, key: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!m) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(m[1]!.trim()), digest(key));
}

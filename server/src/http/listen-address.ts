/** `[HOST:]PORT` for `serve --http`: 127.0.0.1 unless a host is given. */
import { isIP } from "node:net";

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListenAddress(spec: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d+)$/.exec(spec.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--http takes [HOST:]PORT, e.g. 8080 or 127.0.0.1:8080 or [::1]:8080 (got "${spec}")`);
  return { host: m[1] ?? m[2] ?? "127.0.0.1", port };
}

/** Whether only this machine can reach the address. */
export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

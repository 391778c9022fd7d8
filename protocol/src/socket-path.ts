/**
 * Where the shared daemon's socket lives, and whether a path is safe to serve on or connect to:
 * one module for the daemon (`serve --socket`) and the extension, so both name the same path and
 * apply the same rule. The socket must sit in a folder only its user can change (their
 * `$XDG_RUNTIME_DIR`, or a 0700 folder of their own under the temp folder); otherwise another
 * local user could listen there first and receive the image paths the editor sends.
 */
import { lstatSync, mkdirSync, type Stats } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";

export interface SocketEnv {
  platform: NodeJS.Platform;
  uid: number;
  user: string;
  runtimeDir?: string;
  tmp: string;
}

export function currentSocketEnv(): SocketEnv {
  let user = "user";
  try {
    user = userInfo().username.replace(/[^\w.-]/g, "_");
  } catch {
    // no user name: keep the fallback
  }
  const runtimeDir = process.env.XDG_RUNTIME_DIR?.trim();
  return { platform: process.platform, uid: process.getuid?.() ?? -1, user, ...(runtimeDir ? { runtimeDir } : {}), tmp: tmpdir() };
}

/** `$XDG_RUNTIME_DIR/xraygpt/daemon.sock`, else `<tmp>/xraygpt-<uid>/daemon.sock` (a named pipe on Windows). */
export function defaultSocketPath(env: SocketEnv = currentSocketEnv()): string {
  if (env.platform === "win32") return `\\\\.\\pipe\\xraygpt-${env.user}`;
  return env.runtimeDir ? join(env.runtimeDir, "xraygpt", "daemon.sock") : join(env.tmp, `xraygpt-${env.uid}`, "daemon.sock");
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

function kind(s: Stats): string {
  if (s.isFile()) return "a regular file";
  if (s.isDirectory()) return "a folder";
  if (s.isSymbolicLink()) return "a symbolic link";
  if (s.isFIFO()) return "a FIFO";
  return "not a socket";
}

/**
 * Why `path` must not be used for the daemon's socket, or undefined when it may: its folder must be
 * the user's own and writable by nobody else; an existing entry there must be a socket of the user's.
 * `create` makes a missing folder (mode 0700) — the daemon does, for the default path.
 */
export function socketPathProblem(path: string, opts: { uid?: number; create?: boolean } = {}): string | undefined {
  if (process.platform === "win32") return undefined;
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  const dir = dirname(path);
  let d = lstatOrUndefined(dir);
  if (!d && opts.create) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      return `cannot create the socket's folder ${dir} (${(e as NodeJS.ErrnoException).code})`;
    }
    d = lstatOrUndefined(dir);
  }
  if (!d) return `the socket's folder ${dir} does not exist`;
  if (!d.isDirectory()) return `the socket's folder ${dir} is ${kind(d)}, not a folder`;
  if (d.uid !== uid) return `the socket's folder ${dir} belongs to another user (uid ${d.uid}); use a folder of your own (e.g. $XDG_RUNTIME_DIR)`;
  if ((d.mode & 0o022) !== 0) return `the socket's folder ${dir} can be changed by other users (mode ${(d.mode & 0o777).toString(8)}); use a folder only you can write (chmod 700)`;
  const s = lstatOrUndefined(path);
  if (!s) return undefined;
  if (s.uid !== uid) return `${path} belongs to another user (uid ${s.uid}); not using it`;
  if (!s.isSocket()) return `${path} exists and is ${kind(s)}, not a socket; it is left as it is`;
  return undefined;
}

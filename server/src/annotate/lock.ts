/**
 * An exclusive lock on an output file: `<file>.lock`, created with O_EXCL and holding the owner's
 * pid, host and start time. A second process is refused with an error naming the owner. A lock
 * whose process is gone (same host, pid no longer alive) is stale and is taken over.
 */
import { closeSync, fsyncSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";

export class LockError extends Error {
  override name = "LockError";
}

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

export interface FileLock {
  path: string;
  release(): void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function tryCreate(lockPath: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new LockError(`${lockPath}: cannot create lock file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    writeSync(fd, JSON.stringify(info) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readLock(lockPath: string): { raw: string; info?: LockInfo } | undefined {
  let raw: string;
  try {
    raw = readFileSync(lockPath, "utf8");
  } catch {
    return undefined; // gone meanwhile
  }
  try {
    const info = JSON.parse(raw) as LockInfo;
    return typeof info.pid === "number" ? { raw, info } : { raw };
  } catch {
    return { raw };
  }
}

/** Takes the lock on `target` (the lock file is `${target}.lock`) or throws LockError. */
export function acquireLock(target: string): FileLock {
  const lockPath = `${target}.lock`;
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(lockPath, info)) {
      const mine = JSON.stringify(info) + "\n";
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off("exit", release);
        const current = readLock(lockPath);
        if (current?.raw === mine) unlinkSync(lockPath);
      };
      process.on("exit", release);
      return { path: lockPath, release };
    }
    const current = readLock(lockPath);
    if (!current) continue;
    const { info: owner } = current;
    let stale: boolean;
    if (owner) stale = owner.host === info.host && !pidAlive(owner.pid);
    else {
      // A lock file without a readable owner: its creator died between creating and writing it.
      let age = 0;
      try {
        age = Date.now() - statSync(lockPath).mtimeMs;
      } catch {
        continue;
      }
      stale = age > 5000;
    }
    if (!stale) {
      const who = owner ? `process ${owner.pid} on ${owner.host} (since ${owner.startedAt})` : "another process";
      throw new LockError(`${target} is in use by ${who}; lock file ${lockPath}. Wait for it to finish, or delete the lock file if that process is gone.`);
    }
    // Stale: remove it only if it is still the same stale lock, then try again.
    if (readLock(lockPath)?.raw === current.raw) {
      try {
        unlinkSync(lockPath);
      } catch {
        /* another process took it over first */
      }
    }
  }
  throw new LockError(`${target}: could not take the lock ${lockPath} (it keeps changing)`);
}

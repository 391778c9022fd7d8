/**
 * An exclusive lock on an output file: `<file>.lock`, created with O_EXCL and holding the owner's
 * pid, host and start time. A second process is refused with an error naming the owner. A lock
 * whose process is gone is stale and is taken over: same host and the pid no longer exists, or
 * is a zombie (killed but not reaped — PID 1 in a container often never reaps it, and
 * `kill(pid, 0)` still succeeds), or is a different process that reused the pid (its start time,
 * from /proc/PID/stat, is not the one recorded in the lock).
 */
import { closeSync, fsyncSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { readRegularFileSync } from "../util/safe-file.js";
import { deadState, hasProc, procStat } from "../util/proc.js";

export class LockError extends Error {
  override name = "LockError";
}

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  /** The owner's start time in clock ticks since boot (/proc/PID/stat field 22), where readable. */
  startTicks?: number;
}

export interface FileLock {
  path: string;
  release(): void;
}

/** Whether the lock's owner still runs: exists, is not a zombie, and is the same process (start time). */
export function ownerAlive(owner: Pick<LockInfo, "pid" | "startTicks">): boolean {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  if (hasProc()) {
    const st = procStat(owner.pid);
    if (!st) return false;
    if (deadState(st.state)) return false;
    if (owner.startTicks !== undefined && st.startTicks !== owner.startTicks) return false;
    return true;
  }
  try {
    process.kill(owner.pid, 0);
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
    raw = readRegularFileSync(lockPath, { what: "lock file", maxBytes: 4096 }).toString("utf8");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined; // gone meanwhile
    throw new LockError(`${(e as Error).message}; not a lock this program wrote — remove it`);
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
  const self = procStat(process.pid);
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), ...(self ? { startTicks: self.startTicks } : {}) };
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
    if (owner) stale = owner.host === info.host && !ownerAlive(owner);
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

/**
 * Opens that cannot block: every file a request or command names is read through here. The path
 * is stat()ed first and anything but a regular file is refused before it is opened (a FIFO, a
 * socket or a device is never opened, so nothing waits on a writer); the open itself uses
 * O_NONBLOCK and the handle is fstat()ed again (the path may have been swapped in between); the
 * read has a deadline. Errors are FileError: "<path>: <cause>", never quoting the file's bytes.
 */
import { constants, fstatSync, openSync, closeSync, readSync, statSync, type Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

export class FileError extends Error {
  override name = "FileError";
  constructor(
    readonly file: string,
    /** What went wrong, without the path. */
    readonly reason: string,
    readonly code?: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** The cause of a failed file system call, as words. */
export function errnoCause(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words = errnoWords(code);
  if (words) return `${words} (${code})`;
  return code ? `error ${code}` : (e as Error)?.message ?? String(e);
}

function errnoWords(code: string | undefined): string | undefined {
  switch (code) {
    case "ENOENT":
      return "file not found";
    case "ENOTDIR":
      return "a part of the path is not a folder";
    case "EISDIR":
      return "is a directory, not a file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "too many levels of symbolic links (a symlink loop?)";
    case "ENAMETOOLONG":
      return "path too long";
    case "ENOSPC":
      return "no space left on the device";
    case "EDQUOT":
      return "disk quota exceeded";
    case "EFBIG":
      return "file too large for the file system or the process's file size limit";
    case "EROFS":
      return "read-only file system";
    case "EIO":
      return "input/output error";
    default:
      return undefined;
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** Why `st` is not acceptable as a regular file to read, or undefined. */
function notRegular(st: Stats, what: string): string | undefined {
  if (st.isFile()) return undefined;
  const kind = kindOf(st);
  return kind === "not a regular file" ? `not a regular file (an ${what} must be one)` : `is ${kind}, not a regular file (an ${what} must be one)`;
}

export interface ReadOptions {
  /** Words for what the file is, in errors ("image", "image list", "model file"). */
  what?: string;
  /** Largest accepted size in bytes (default 2 GiB − 1). */
  maxBytes?: number;
  /** Deadline for the whole read (default 60 s). */
  timeoutMs?: number;
}

const DEFAULT_MAX = 2 ** 31 - 1;
const DEFAULT_TIMEOUT_MS = 60_000;
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** stat() of the path, as a FileError when it fails. */
export function statOrThrow(path: string): Stats {
  try {
    return statSync(path);
  } catch (e) {
    throw new FileError(path, errnoCause(e), (e as NodeJS.ErrnoException).code);
  }
}

/** Throws unless `path` is (after symlinks) a regular file; returns its stat. */
export function requireRegularFile(path: string, what = "input file"): Stats {
  const st = statOrThrow(path);
  const problem = notRegular(st, what);
  if (problem) throw new FileError(path, problem, st.isDirectory() ? "EISDIR" : "ENOTREG");
  return st;
}

/** Throws unless `path` is (after symlinks) a folder. */
export function requireDirectory(path: string): Stats {
  const st = statOrThrow(path);
  if (!st.isDirectory()) throw new FileError(path, "not a folder", "ENOTDIR");
  return st;
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * The first `size` bytes (fewer when the file ends sooner) in as few reads as the kernel allows,
 * into one buffer: FileHandle.readFile reads 512 KiB at a time, a thread pool round trip each
 * (on a busy machine each round trip can wait milliseconds for the thread to be scheduled).
 */
async function readKnownSize(handle: FileHandle, size: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafeSlow(size);
  let total = 0;
  while (total < size) {
    const { bytesRead } = await handle.read(buffer, total, size - total, total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  if (total === size) return buffer;
  buffer.fill(0, total); // never leave uninitialised memory behind the view
  return buffer.subarray(0, total);
}

/** Reads a whole regular file without ever blocking on its open; see the module comment. */
export async function readRegularFile(path: string, opts: ReadOptions = {}): Promise<Buffer> {
  const what = opts.what ?? "input file";
  const before = requireRegularFile(path, what);
  const max = opts.maxBytes ?? DEFAULT_MAX;
  if (before.size > max) throw new FileError(path, `file too large (${before.size} bytes; at most ${max})`, "EFBIG");
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (e) {
    throw new FileError(path, errnoCause(e), (e as NodeJS.ErrnoException).code);
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    // fstat of an open descriptor does not block (and a thread pool round trip costs more than it).
    const st = fstatSync(handle.fd);
    const problem = notRegular(st, what) ?? (sameFile(st, before) ? undefined : "the file changed while it was opened");
    if (problem) throw new FileError(path, problem, "ENOTREG");
    if (st.size > max) throw new FileError(path, `file too large (${st.size} bytes; at most ${max})`, "EFBIG");
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FileError(path, `reading took longer than ${(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s`, "ETIMEDOUT")), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      timer.unref();
    });
    return await Promise.race([st.size > 0 ? readKnownSize(handle, st.size) : handle.readFile(), deadline]);
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw new FileError(path, errnoCause(e), (e as NodeJS.ErrnoException).code);
  } finally {
    clearTimeout(timer);
    // Not awaited: FileHandle.close waits for a read still pending (after a timeout) by itself.
    void handle.close().catch(() => undefined);
  }
}

/** Synchronous twin of readRegularFile for the few synchronous readers (lists, logs, CSVs); no deadline (regular files only). */
export function readRegularFileSync(path: string, opts: Omit<ReadOptions, "timeoutMs"> = {}): Buffer {
  const what = opts.what ?? "input file";
  const before = requireRegularFile(path, what);
  const max = opts.maxBytes ?? DEFAULT_MAX;
  if (before.size > max) throw new FileError(path, `file too large (${before.size} bytes; at most ${max})`, "EFBIG");
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    throw new FileError(path, errnoCause(e), (e as NodeJS.ErrnoException).code);
  }
  try {
    const st = fstatSync(fd);
    const problem = notRegular(st, what) ?? (sameFile(st, before) ? undefined : "the file changed while it was opened");
    if (problem) throw new FileError(path, problem, "ENOTREG");
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.max(65536, Math.min(st.size - total + 1, 1 << 24)));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > max) throw new FileError(path, `file too large (more than ${max} bytes)`, "EFBIG");
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw new FileError(path, errnoCause(e), (e as NodeJS.ErrnoException).code);
  } finally {
    closeSync(fd);
  }
}

/**
 * For a file about to be written or appended to: absent is fine; present must be a regular file
 * (a FIFO, device or folder as an output is refused before it is opened).
 */
export function requireWritableTarget(path: string, what = "output file"): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new FileError(path, errnoCause(e), (e as NodeJS.ErrnoException).code);
  }
  const problem = notRegular(st, what);
  if (problem) throw new FileError(path, problem, "ENOTREG");
}

/** The first `n` bytes (fewer when the file is shorter) of a regular file, opened as above. */
export async function readHead(path: string, n: number, what = "input file"): Promise<Buffer> {
  const before = requireRegularFile(path, what);
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (e) {
    throw new FileError(path, errnoCause(e), (e as NodeJS.ErrnoException).code);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || !sameFile(st, before)) throw new FileError(path, "the file changed while it was opened", "ENOTREG");
    const buf = Buffer.alloc(n);
    const { bytesRead } = await handle.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw new FileError(path, errnoCause(e), (e as NodeJS.ErrnoException).code);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * The append-only JSONL log with crash safety. Each record is one `write` of one line followed by
 * fsync. On open, a last line without its newline (a write cut short by a crash) is repaired:
 * when it is complete JSON the newline is added; otherwise its bytes are appended to
 * `<file>.corrupt` (fsynced) and the log is truncated back to the last newline, with a warning.
 * Unparseable lines elsewhere are left in place and reported. Nothing is silently dropped.
 *
 * Only an xraygpt log is ever appended to: an existing file whose first line is not a log record
 * (a script, a text file) is refused untouched, and so is anything but a regular file (a FIFO is
 * never opened). A failed write (disk full) is cut back to the last whole record and the error
 * names the file; a repair that cannot write its sidecar leaves the log and the disk as they were.
 */
import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { errnoCause, readRegularFileSync, requireWritableTarget } from "../util/safe-file.js";
import type { LogRecord } from "./record.js";

export class JournalError extends Error {
  override name = "JournalError";
}

export interface Repair {
  action: "completed-line" | "moved-to-sidecar";
  bytes: number;
  sidecar?: string;
}

export interface JournalState {
  records: LogRecord[];
  badLines: { line: number; reason: string }[];
  repair?: Repair;
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/** A write-side failure as a JournalError naming the file. */
function writeError(path: string, what: string, e: unknown): JournalError {
  return e instanceof JournalError ? e : new JournalError(`${path}: cannot ${what} (${errnoCause(e)})`);
}

/** Whole-file read through an open descriptor. */
function readAllFd(fd: number): Buffer {
  const size = fstatSync(fd).size;
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/**
 * Whether `bytes` (an existing file) is an xraygpt log: empty, or its first line is a record
 * ({"type":"annotation"|"review", ...}); a lone unterminated first line only needs to start as
 * one (a first record cut short by a crash).
 */
export function looksLikeLog(bytes: Buffer): boolean {
  if (bytes.length === 0) return true;
  const nl = bytes.indexOf(0x0a);
  const first = bytes.subarray(0, nl < 0 ? bytes.length : nl).toString("utf8");
  if (nl < 0 && /^\{"type":"(annotation|review)"/.test(first)) return true;
  try {
    const v = JSON.parse(first) as { type?: unknown; schema?: unknown };
    return typeof v === "object" && v !== null && (v.type === "annotation" || v.type === "review") && typeof v.schema === "number";
  } catch {
    return false;
  }
}

function notALog(path: string): JournalError {
  return new JournalError(`${path}: not an xraygpt annotation log (its first line is not a log record); refusing to change it — choose another file`);
}

/** Moves a torn tail to the sidecar; on failure the sidecar is put back as it was (never left empty). */
/** Opens `path` for appending, creating it when absent (`created` says which); never blocks. */
function openAppending(path: string, access: number): { fd: number; created: boolean } {
  try {
    return { fd: openSync(path, access | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NONBLOCK, 0o644), created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return { fd: openSync(path, access | constants.O_APPEND | constants.O_NONBLOCK), created: false };
  }
}

function moveToSidecar(sidecar: string, tail: Buffer): void {
  requireWritableTarget(sidecar, "sidecar file");
  let sfd: number;
  let created = false;
  try {
    ({ fd: sfd, created } = openAppending(sidecar, constants.O_WRONLY));
  } catch (e) {
    throw writeError(sidecar, "create the sidecar for the torn last line", e);
  }
  const before = fstatSync(sfd).size;
  try {
    writeAll(sfd, Buffer.concat([tail, Buffer.from("\n")]));
    fsyncSync(sfd);
  } catch (e) {
    try {
      if (created) unlinkSync(sidecar);
      else ftruncateSync(sfd, before);
    } catch {
      /* best effort: the error below names the file */
    }
    throw writeError(sidecar, "write the torn last line", e);
  } finally {
    closeSync(sfd);
  }
}

function fsyncDir(path: string): void {
  try {
    const fd = openSync(dirname(path), "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* some file systems refuse directory fsync; the file itself is fsynced */
  }
}

function parseLines(text: string): Pick<JournalState, "records" | "badLines"> {
  const records: LogRecord[] = [];
  const badLines: { line: number; reason: string }[] = [];
  text.split("\n").forEach((raw, k) => {
    if (raw.trim() === "") return;
    try {
      const obj = JSON.parse(raw) as unknown;
      if (typeof obj === "object" && obj !== null && !Array.isArray(obj)) records.push(obj as LogRecord);
      else badLines.push({ line: k + 1, reason: "not a JSON object" });
    } catch {
      badLines.push({ line: k + 1, reason: "not valid JSON" });
    }
  });
  return { records, badLines };
}

export class Journal {
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    readonly state: JournalState,
  ) {
    this.fd = fd;
  }

  /** Opens (creating when absent) and repairs the log. Take the lock first. */
  static open(path: string, warn: (message: string) => void = () => {}): Journal {
    let fd: number;
    let created = false;
    try {
      requireWritableTarget(path, "annotation log");
      ({ fd, created } = openAppending(path, constants.O_RDWR));
    } catch (e) {
      throw e instanceof Error && e.name === "FileError" ? new JournalError(e.message) : writeError(path, "open for appending", e);
    }
    try {
      if (!fstatSync(fd).isFile()) throw new JournalError(`${path}: not a regular file (an annotation log must be one)`);
      if (created) fsyncDir(path);
      const bytes = readAllFd(fd);
      if (!looksLikeLog(bytes)) throw notALog(path);
      let repair: Repair | undefined;
      let body = bytes;
      if (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a) {
        const cut = bytes.lastIndexOf(0x0a) + 1;
        const tail = bytes.subarray(cut);
        let complete = false;
        try {
          const v = JSON.parse(tail.toString("utf8")) as unknown;
          complete = typeof v === "object" && v !== null && !Array.isArray(v);
        } catch {
          complete = false;
        }
        if (complete) {
          try {
            writeAll(fd, Buffer.from("\n"));
            fsyncSync(fd);
          } catch (e) {
            ftruncateSync(fd, bytes.length);
            throw writeError(path, "complete its last line", e);
          }
          body = Buffer.concat([bytes, Buffer.from("\n")]);
          repair = { action: "completed-line", bytes: tail.length };
          warn(`${path}: the last line had no newline (interrupted write); it is complete JSON, so the newline was added`);
        } else {
          const sidecar = `${path}.corrupt`;
          moveToSidecar(sidecar, tail);
          ftruncateSync(fd, cut);
          fsyncSync(fd);
          body = bytes.subarray(0, cut);
          repair = { action: "moved-to-sidecar", bytes: tail.length, sidecar };
          warn(`${path}: the last line was cut short by an interrupted write (${tail.length} bytes); moved it to ${sidecar} and truncated the log to its last complete line`);
        }
      }
      const parsed = parseLines(body.toString("utf8"));
      for (const b of parsed.badLines) warn(`${path}: line ${b.line} is ${b.reason}; left in place and ignored`);
      return new Journal(path, fd, { ...parsed, repair });
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /**
   * Reads the log without changing anything (no repair; a torn last line is ignored): for
   * callers that must fail without side effects. Absent → empty.
   */
  static read(path: string): JournalState {
    let bytes: Buffer;
    try {
      bytes = readRegularFileSync(path, { what: "annotation log" });
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return { records: [], badLines: [] };
      throw new JournalError((e as Error).message);
    }
    if (!looksLikeLog(bytes)) throw notALog(path);
    return parseLines(bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1).toString("utf8"));
  }

  /**
   * Appends one record as one line and fsyncs it before returning. A failed write (disk full)
   * is cut back so the log ends with its last whole record, and the error names the file.
   */
  append(record: LogRecord): void {
    if (this.fd === undefined) throw new JournalError(`${this.path}: journal is closed`);
    const fd = this.fd;
    const before = fstatSync(fd).size;
    try {
      writeAll(fd, Buffer.from(JSON.stringify(record) + "\n", "utf8"));
      fsyncSync(fd);
    } catch (e) {
      try {
        ftruncateSync(fd, before);
      } catch {
        /* the next open repairs a torn line */
      }
      throw writeError(this.path, "write the record", e);
    }
    this.state.records.push(record);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

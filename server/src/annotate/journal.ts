/**
 * The append-only JSONL log with crash safety. Each record is one `write` of one line followed by
 * fsync. On open, a last line without its newline (a write cut short by a crash) is repaired:
 * when it is complete JSON the newline is added; otherwise its bytes are appended to
 * `<file>.corrupt` (fsynced) and the log is truncated back to the last newline, with a warning.
 * Unparseable lines elsewhere are left in place and reported. Nothing is silently dropped.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
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
    const created = !existsSync(path);
    let fd: number;
    try {
      fd = openSync(path, "a+");
    } catch (e) {
      throw new JournalError(`${path}: cannot open for appending (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      if (created) fsyncDir(path);
      const bytes = readFileSync(path);
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
          writeAll(fd, Buffer.from("\n"));
          fsyncSync(fd);
          body = Buffer.concat([bytes, Buffer.from("\n")]);
          repair = { action: "completed-line", bytes: tail.length };
          warn(`${path}: the last line had no newline (interrupted write); it is complete JSON, so the newline was added`);
        } else {
          const sidecar = `${path}.corrupt`;
          const sfd = openSync(sidecar, "a");
          try {
            writeAll(sfd, Buffer.concat([tail, Buffer.from("\n")]));
            fsyncSync(sfd);
          } finally {
            closeSync(sfd);
          }
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

  /** Appends one record as one line and fsyncs it before returning. */
  append(record: LogRecord): void {
    if (this.fd === undefined) throw new JournalError(`${this.path}: journal is closed`);
    writeAll(this.fd, Buffer.from(JSON.stringify(record) + "\n", "utf8"));
    fsyncSync(this.fd);
    this.state.records.push(record);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Process facts from /proc (Linux), shared by everything that must tell a live process from a zombie. */
import { readFileSync } from "node:fs";

/** State letter and start time of a process from /proc/PID/stat; undefined where there is no /proc entry. */
export function procStat(pid: number): { state: string; startTicks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so split after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const startTicks = Number(fields[19]);
  return fields[0] ? { state: fields[0], startTicks: Number.isFinite(startTicks) ? startTicks : -1 } : undefined;
}

let procAvailable: boolean | undefined;
/** Whether this system has /proc (it does not change while we run). */
export function hasProc(): boolean {
  return (procAvailable ??= procStat(process.pid) !== undefined);
}

/** Whether a state letter is a dead process's: a zombie (which PID 1 may leave unreaped) or exited. */
export function deadState(state: string): boolean {
  return state === "Z" || state === "X" || state === "x";
}

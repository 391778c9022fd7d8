import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { acquireLock, LockError } from "./lock.js";
import { procStat } from "../util/proc.js";

/** State and start time from /proc/PID/stat, read here independently of lock.ts. */

const target = () => join(mkdtempSync(join(tmpdir(), "xraygpt-lock-")), "log.jsonl");
const lockModule = new URL("./lock.js", import.meta.url).href;

test("the lock is exclusive within a process and released", () => {
  const t = target();
  const lock = acquireLock(t);
  assert.equal(JSON.parse(readFileSync(`${t}.lock`, "utf8")).pid, process.pid);
  assert.throws(() => acquireLock(t), (e: Error) => e instanceof LockError && e.message.includes(`in use by process ${process.pid}`));
  lock.release();
  assert.ok(!existsSync(`${t}.lock`));
  acquireLock(t).release();
});

test("a second process is refused while the first holds the lock", () => {
  const t = target();
  const lock = acquireLock(t);
  try {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", `import { acquireLock } from ${JSON.stringify(lockModule)}; try { acquireLock(${JSON.stringify(t)}); process.exit(0); } catch (e) { console.error(e.message); process.exit(3); }`], { encoding: "utf8" });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`in use by process ${process.pid}`));
  } finally {
    lock.release();
  }
});

test("a lock left by a dead process is stale and taken over", async () => {
  const t = target();
  const child = spawn(process.execPath, ["-e", ""]);
  const pid = child.pid!;
  await new Promise((r) => child.on("exit", r));
  writeFileSync(`${t}.lock`, JSON.stringify({ pid, host: hostname(), startedAt: "2020-01-01T00:00:00Z" }) + "\n");
  const lock = acquireLock(t);
  assert.equal(JSON.parse(readFileSync(`${t}.lock`, "utf8")).pid, process.pid);
  lock.release();
});

test("a lock held by a live process on another host is not taken over", () => {
  const t = target();
  writeFileSync(`${t}.lock`, JSON.stringify({ pid: 999999, host: "elsewhere", startedAt: "2020-01-01T00:00:00Z" }) + "\n");
  assert.throws(() => acquireLock(t), /in use by process 999999 on elsewhere/);
});

test("a lock whose process is a zombie (killed, never reaped) is stale and taken over", { skip: !existsSync("/proc/self/stat") && "no /proc" }, async () => {
  const t = target();
  // `sleep 0.1` becomes a child of `sleep 30` (sh exec'd it), which never reaps it: a zombie.
  const parent = spawn("sh", ["-c", "sleep 0.1 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
  try {
    const pid = Number(await new Promise<string>((r) => parent.stdout.once("data", (d: Buffer) => r(d.toString()))));
    const deadline = Date.now() + 10_000;
    while (procStat(pid)?.state !== "Z" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(procStat(pid)?.state, "Z", "the fixture process became a zombie");
    process.kill(pid, 0); // kill(pid, 0) still succeeds on it
    writeFileSync(`${t}.lock`, JSON.stringify({ pid, host: hostname(), startedAt: "2020-01-01T00:00:00Z" }) + "\n");
    const lock = acquireLock(t);
    assert.equal(JSON.parse(readFileSync(`${t}.lock`, "utf8")).pid, process.pid);
    lock.release();
  } finally {
    parent.kill();
  }
});

test("a lock whose pid now belongs to another process (pid reuse: other start time) is stale", { skip: !existsSync("/proc/self/stat") && "no /proc" }, () => {
  const t = target();
  const live = process.ppid;
  const real = procStat(live)!.startTicks;
  writeFileSync(`${t}.lock`, JSON.stringify({ pid: live, host: hostname(), startedAt: "2020-01-01T00:00:00Z", startTicks: real + 12345 }) + "\n");
  const lock = acquireLock(t);
  assert.equal(JSON.parse(readFileSync(`${t}.lock`, "utf8")).pid, process.pid);
  lock.release();
  // The same pid with its true start time is a live owner: refused.
  writeFileSync(`${t}.lock`, JSON.stringify({ pid: live, host: hostname(), startedAt: "2020-01-01T00:00:00Z", startTicks: real }) + "\n");
  assert.throws(() => acquireLock(t), new RegExp(`in use by process ${live}`));
});

test("a lock path that is a FIFO is refused, never opened", { skip: process.platform === "win32" }, () => {
  const t = target();
  spawnSync("mkfifo", [`${t}.lock`]);
  assert.throws(() => acquireLock(t), /FIFO/);
});

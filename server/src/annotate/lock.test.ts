import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { acquireLock, LockError } from "./lock.js";

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

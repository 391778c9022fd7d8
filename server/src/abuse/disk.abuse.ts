// Abuse suite: a full disk. On a 64 KiB tmpfs (when this machine lets the test mount one; else a
// per-process file size limit, `ulimit -f`, stands in): a failed append names the log and leaves
// it ending with its last whole record; repairing a torn last line on the full disk fails with
// an error naming the sidecar, never leaves an empty `.corrupt`, and succeeds once there is room.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Journal } from "../annotate/journal.js";
import type { LogRecord } from "../annotate/record.js";

const dir = mkdtempSync(join(tmpdir(), "xraygpt-disk-"));
let tmpfs = false;
before(() => {
  tmpfs = !process.env.XRAYGPT_ABUSE_NO_MOUNT && spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]).status === 0;
  if (!tmpfs) console.log("# disk: cannot mount a tmpfs here; simulating a full disk with ulimit -f");
});
after(() => {
  if (tmpfs) spawnSync("umount", [dir]);
  rmSync(dir, { recursive: true, force: true });
});

const record = (n: number) => ({ type: "annotation", schema: 1, image: `/images/${n}.png`, sha256: "ab".repeat(32), text: "x".repeat(700) }) as unknown as LogRecord;

/** Fills the file system with one file until it is full; returns the filler's path. */
function fill(): string {
  const filler = join(dir, "filler");
  const fd = openSync(filler, "w");
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, "ENOSPC");
  } finally {
    closeSync(fd);
  }
  return filler;
}

function checkWhole(path: string): number {
  const text = readFileSync(path, "utf8");
  assert.ok(text === "" || text.endsWith("\n"), "the log ends with a whole record");
  const lines = text.split("\n").filter(Boolean);
  for (const l of lines) JSON.parse(l);
  return lines.length;
}

test("disk full while appending: the error names the log, which keeps only whole records", async () => {
  const log = join(dir, "run.jsonl");
  if (tmpfs) {
    const j = Journal.open(log);
    let error: Error | undefined;
    for (let n = 0; n < 1000 && !error; n++) {
      try {
        j.append(record(n));
      } catch (e) {
        error = e as Error;
      }
    }
    j.close();
    assert.ok(error, "the disk filled up");
    assert.match(error.message, new RegExp(`^${log.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: cannot write the record \\(no space left on the device \\(ENOSPC\\)\\)`));
    assert.ok(checkWhole(log) > 10);
  } else {
    const journal = new URL("../annotate/journal.js", import.meta.url).href;
    const script = `import { Journal } from ${JSON.stringify(journal)}; const j = Journal.open(${JSON.stringify(log)}); try { for (let n = 0; n < 1000; n++) j.append(${JSON.stringify(record(0))}); } catch (e) { console.error(e.message); process.exit(3); }`;
    const r = spawnSync("bash", ["-c", `trap '' XFSZ; ulimit -f 64; exec "${process.execPath}" --input-type=module -e '${script.replace(/'/g, "'\\''")}'`], { encoding: "utf8" });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`${log.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: cannot write the record`));
    assert.ok(checkWhole(log) > 10);
  }
});

test("a torn last line on a full disk: repair fails naming the sidecar, nothing changes, no empty .corrupt", { skip: !existsSync("/proc/mounts") && "no /proc/mounts" }, async (t) => {
  if (!tmpfs) return t.skip("needs a tmpfs to fill (mount not permitted here)");
  rmSync(join(dir, "run.jsonl"), { force: true });
  const log = join(dir, "torn.jsonl");
  const whole = JSON.stringify(record(1)) + "\n";
  writeFileSync(log, whole + JSON.stringify(record(2)).slice(0, 300));
  const before = readFileSync(log);
  const filler = fill();
  assert.throws(() => Journal.open(log), (e: Error) => e.message.startsWith(`${log}.corrupt: `) && /no space left/.test(e.message));
  assert.ok(!existsSync(`${log}.corrupt`), "no empty .corrupt left behind");
  assert.deepEqual(readFileSync(log), before);
  rmSync(filler);
  const j = Journal.open(log);
  j.close();
  assert.equal(readFileSync(log, "utf8"), whole);
  assert.equal(readFileSync(`${log}.corrupt`, "utf8").length, 301);
});

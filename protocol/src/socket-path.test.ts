import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultSocketPath, socketPathProblem } from "./socket-path.js";

const me = process.getuid!();

test("the default socket is in $XDG_RUNTIME_DIR, else in a per-uid folder under the temp folder", () => {
  const base = { platform: "linux" as const, uid: 1000, user: "ann", tmp: "/tmp" };
  assert.equal(defaultSocketPath({ ...base, runtimeDir: "/run/user/1000" }), "/run/user/1000/xraygpt/daemon.sock");
  assert.equal(defaultSocketPath(base), "/tmp/xraygpt-1000/daemon.sock");
  assert.equal(defaultSocketPath({ ...base, platform: "win32" }), "\\\\.\\pipe\\xraygpt-ann");
});

test("socketPathProblem: a missing folder is made 0700; only a socket of the user's in a folder of theirs passes", async () => {
  const root = mkdtempSync(join(tmpdir(), "xraygpt-sock-"));
  try {
    const made = join(root, "made", "daemon.sock");
    assert.match(socketPathProblem(made)!, /made does not exist/);
    assert.match(socketPathProblem(join(root, "no", "such", "daemon.sock"), { create: true })!, /cannot create the socket's folder .*such \(ENOENT\)/);
    assert.equal(socketPathProblem(made, { create: true }), undefined);
    assert.equal(statSync(join(root, "made")).mode & 0o777, 0o700);

    assert.match(socketPathProblem(made, { uid: me + 1 })!, /made belongs to another user \(uid \d+\)/);
    const file = join(root, "made", "notes.txt");
    writeFileSync(file, "x");
    assert.match(socketPathProblem(file)!, /notes\.txt exists and is a regular file, not a socket; it is left as it is/);
    symlinkSync(file, join(root, "made", "link.sock"));
    assert.match(socketPathProblem(join(root, "made", "link.sock"))!, /is a symbolic link/);
    spawnSync("mkfifo", [join(root, "made", "fifo")]);
    assert.match(socketPathProblem(join(root, "made", "fifo"))!, /is a FIFO/);

    const server = createServer();
    await new Promise<void>((r) => server.listen(made, r));
    assert.equal(socketPathProblem(made), undefined, "a socket of the user's");
    await new Promise((r) => server.close(r));

    const open = join(root, "open");
    spawnSync("mkdir", ["-m", "0777", open]);
    chmodSync(open, 0o777);
    assert.match(socketPathProblem(join(open, "daemon.sock"))!, /can be changed by other users \(mode 777\)/);
    assert.match(socketPathProblem(join(file, "daemon.sock"))!, /notes\.txt is a regular file, not a folder/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

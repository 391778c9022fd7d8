// The shared socket daemon outlives its clients: whatever one client does to its own connection
// (hang up, shutdown + exit, exit, a dead processId, connect and close), the others' pending and
// next requests succeed. And where its socket may live.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FindingsRequest, StatusRequest, SummarizeRequest } from "@xraygpt/protocol";
import { FIXTURE_MODEL, LONG_MODEL, makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";
import { connectClient, startSocketDaemon, type SocketClient, type SocketDaemon } from "../testing/socket-daemon.js";

const CLI = fileURLToPath(new URL("../cli.js", import.meta.url));

let ws: TestWorkspace;
let n = 0;

before(async () => {
  ws = await makeTestWorkspace(2);
});

after(async () => {
  await ws.cleanup();
});

const serveArgs = () => ["--models-dir", ws.modelsDir, "--model", FIXTURE_MODEL];
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function withDaemon(f: (d: SocketDaemon) => Promise<void>, args: string[] = []): Promise<void> {
  const d = await startSocketDaemon(join(ws.dir, `d${++n}.sock`), [...serveArgs(), ...args]);
  try {
    await f(d);
  } finally {
    await d.stop();
  }
}

/**
 * A bystander client has a generation pending while the victim ends its connection its way; the
 * pending request, the bystander's next request and a new client's all succeed, and the daemon
 * still runs with its socket in place.
 */
async function othersServedAfter(leave: (victim: SocketClient) => Promise<void>, victimPid: number | null = process.pid): Promise<void> {
  await withDaemon(async (d) => {
    const bystander = await connectClient(d.path);
    const victim = await connectClient(d.path, victimPid);
    const pending = bystander.rpc.sendRequest(SummarizeRequest, { jobId: "long", image: ws.images[0]!, model: LONG_MODEL, generation: { maxTokens: 300 } });
    await leave(victim);
    await within(victim.closed, 10_000, "the victim's connection ends");
    const hungUp = bystander.closed.then(() => Promise.reject(new Error(`the daemon closed the bystander's connection (exit code ${d.child.exitCode})`)));
    const long = await within(Promise.race([pending, hungUp]), 30_000, "the pending request");
    assert.ok(long.text.length > 0);
    const next = await bystander.rpc.sendRequest(FindingsRequest, { image: ws.images[1]! });
    assert.equal(next.findings.labels.length, 3);
    const fresh = await connectClient(d.path);
    assert.equal((await fresh.rpc.sendRequest(StatusRequest, {})).health, "ok");
    assert.equal(d.child.exitCode, null, "the daemon still runs");
    assert.ok(existsSync(d.path), "its socket is still there");
    fresh.socket.destroy();
    bystander.socket.destroy();
  });
}

test("a client that hangs up mid-session ends only its own connection", async () => {
  await othersServedAfter(async (victim) => {
    await victim.rpc.sendRequest(FindingsRequest, { image: ws.images[0]! });
    void victim.rpc.sendRequest(SummarizeRequest, { jobId: "v", image: ws.images[1]!, model: LONG_MODEL }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    victim.rpc.dispose();
    victim.socket.destroy();
  });
});

test("shutdown + exit from one client ends only its own connection", async () => {
  await othersServedAfter(async (victim) => {
    await victim.rpc.sendRequest("shutdown");
    await victim.rpc.sendNotification("exit");
  });
});

test("exit without shutdown from one client ends only its own connection", async () => {
  await othersServedAfter(async (victim) => {
    await victim.rpc.sendNotification("exit");
  });
});

test("a client whose initialize processId is not running is dropped alone", async () => {
  const gone = spawnSync(process.execPath, ["-e", ""]).pid;
  await othersServedAfter(async () => undefined, gone);
});

test("a client that connects and closes without a word ends only its own connection", async () => {
  await othersServedAfter(async (victim) => void victim.socket.end(), null);
});

test("--exit-when-idle stops the daemon once no client is left; without it the daemon stays", async () => {
  // The idle one starts last: with no client it exits 2 s after starting (a busy machine can take that long to start the other).
  const staying = await startSocketDaemon(join(ws.dir, "stays.sock"), serveArgs());
  const idle = await startSocketDaemon(join(ws.dir, "idle.sock"), [...serveArgs(), "--exit-when-idle", "--idle-seconds", "2"]);
  try {
    for (const d of [idle, staying]) {
      const c = await connectClient(d.path);
      await c.rpc.sendRequest(StatusRequest, {});
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(d.child.exitCode, null, "a connected client keeps it up");
      c.socket.destroy();
    }
    assert.equal(await within(idle.exited, 10_000, "the idle daemon exits"), 0);
    assert.ok(!existsSync(idle.path), "it removes its socket");
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(staying.child.exitCode, null);
  } finally {
    await Promise.all([idle.stop(), staying.stop()]);
  }
  assert.ok(!existsSync(staying.path), "SIGTERM removes the socket");
});

function serveOn(path: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, "serve", "--socket", path, ...serveArgs()], { encoding: "utf8", timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

test("serve --socket on a regular file says so and leaves the file as it was", () => {
  const file = join(ws.dir, "important.txt");
  writeFileSync(file, "the user's notes\n");
  const r = serveOn(file);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /important\.txt exists and is a regular file, not a socket/);
  assert.equal(readFileSync(file, "utf8"), "the user's notes\n");
});

test("serve --socket in a folder of another user's, or one others can write, is refused", { skip: process.getuid?.() !== 0 && "needs root to chown a folder to another uid" }, () => {
  const theirs = join(ws.dir, "theirs");
  mkdirSync(theirs, { mode: 0o700 });
  chownSync(theirs, 12345, 12345);
  const r = serveOn(join(theirs, "daemon.sock"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /theirs belongs to another user \(uid 12345\)/);
  assert.ok(!existsSync(join(theirs, "daemon.sock")));

  const open = join(ws.dir, "open");
  mkdirSync(open);
  spawnSync("chmod", ["1777", open]);
  assert.equal(statSync(open).mode & 0o777, 0o777);
  const o = serveOn(join(open, "daemon.sock"));
  assert.equal(o.status, 1);
  assert.match(o.stderr, /open can be changed by other users \(mode 777\)/);
});

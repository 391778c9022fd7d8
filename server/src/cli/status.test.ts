// `xraygpt status` against a shared daemon whose resident remote model has a dead endpoint.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { LoadModelRequest } from "@xraygpt/protocol";
import { makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";
import { writeRemoteModel } from "../testing/remote-fixture.js";
import { connectClient, startSocketDaemon } from "../testing/socket-daemon.js";
import { runCli } from "../testing/http-daemon.js";

let ws: TestWorkspace;
before(async () => (ws = await makeTestWorkspace(0)));
after(() => ws.cleanup());

function status(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runCli(["status", ...args], process.env);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  return new Promise((r) => child.on("exit", (code) => r({ code, stdout, stderr })));
}

test("status shows each endpoint of a resident remote model, a dead one as DOWN with its error; no daemon is a clear error", async () => {
  const live = createServer((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end('{"object":"list","data":[]}'));
  await new Promise<void>((r) => live.listen(0, "127.0.0.1", r));
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
  const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/v1`;
  await new Promise<void>((r) => dead.close(() => r()));
  const liveUrl = `http://127.0.0.1:${(live.address() as AddressInfo).port}/v1`;
  await writeRemoteModel(ws.modelsDir, "pool", { baseUrls: [deadUrl, liveUrl], model: "m" });
  const sock = join(ws.dir, "d.sock");
  const daemon = await startSocketDaemon(sock, ["--models-dir", ws.modelsDir]);
  try {
    const c = await connectClient(sock);
    await c.rpc.sendRequest(LoadModelRequest, { model: "pool" });
    const r = await status(["--socket", sock]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /endpoints of pool:/);
    assert.match(r.stdout, new RegExp(`${deadUrl.replace(/[./]/g, "\\$&")}  DOWN  0 in flight  1 failure in a row, retried (in \\d s|at the next request): ECONNREFUSED`));
    assert.match(r.stdout, new RegExp(`${liveUrl.replace(/[./]/g, "\\$&")}  up  0 in flight\\n`));
    const j = await status(["--socket", sock, "--json"]);
    assert.deepEqual(JSON.parse(j.stdout).remote[0].endpoints.map((e: { up: boolean }) => e.up), [false, true]);
    c.socket.destroy();
  } finally {
    await daemon.stop();
    live.close();
  }
  const none = await status(["--socket", sock]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no daemon answers on .*d\.sock/);
});

// A request pending when the daemon dies fails with "the XrayGPT daemon stopped", as the extension
// shows it (vscode-languageclient disposes its connection when the daemon's side closes).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ResponseError } from "vscode-jsonrpc";
import { SummarizeRequest, TokenNotification } from "@xraygpt/protocol";
import { connectClient, startSocketDaemon, type SocketDaemon } from "xraygpt/testing/socket-daemon";
import { FIXTURE_MODEL, LONG_MODEL, makeTestWorkspace, type TestWorkspace } from "xraygpt/testing/workspace";
import { DAEMON_STOPPED, requestErrorMessage } from "./request-error.js";

let ws: TestWorkspace;
let daemon: SocketDaemon;

before(async () => {
  ws = await makeTestWorkspace(1);
  daemon = await startSocketDaemon(join(ws.dir, "d.sock"), ["--models-dir", ws.modelsDir, "--model", FIXTURE_MODEL]);
});

after(async () => {
  await daemon.stop();
  await ws.cleanup();
});

test("a request pending when the daemon is killed fails with 'the XrayGPT daemon stopped'; a daemon error keeps its message", async () => {
  const c = await connectClient(daemon.path);
  c.rpc.onClose(() => c.rpc.dispose());
  const bad = await c.rpc.sendRequest(SummarizeRequest, { jobId: "bad", image: join(ws.dir, "missing.png") }).catch((e: unknown) => e);
  assert.ok(bad instanceof ResponseError);
  assert.match(requestErrorMessage(bad), /missing\.png/);
  c.rpc.onNotification(TokenNotification, () => daemon.child.kill("SIGKILL"));
  const pending = await c.rpc.sendRequest(SummarizeRequest, { jobId: "long", image: ws.images[0]!, model: LONG_MODEL }).catch((e: unknown) => e);
  assert.equal(requestErrorMessage(pending), DAEMON_STOPPED);
  assert.equal(requestErrorMessage(new Error("x")), "x");
});

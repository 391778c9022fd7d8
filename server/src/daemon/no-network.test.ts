// Nothing leaves the machine: the daemon and every process it starts, under `strace -f`, through a
// summary, a chat turn and an annotate, then idle past onnxruntime's telemetry start (~8 s after
// a model loads): no connect/sendto/sendmsg to anything but a unix socket or loopback (and no DNS
// at all), and no telemetry files in a fresh HOME or /tmp.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AnnotateRequest, ChatRequest, SummarizeRequest } from "@xraygpt/protocol";
import { FIXTURE_MODEL, makeTestWorkspace, type TestWorkspace } from "../testing/workspace.js";
import { startStdioDaemon } from "../testing/stdio-daemon.js";

const STRACE = spawnSync("strace", ["-V"]).status === 0;
/** How long the daemon stays up after its last request (the telemetry starts ~8 s after a load, then every 5–10 s). */
const IDLE_MS = Number(process.env.XRAYGPT_NO_NETWORK_IDLE_MS ?? 30_000);

let ws: TestWorkspace;
let home: string;

before(async () => {
  ws = await makeTestWorkspace(3);
  home = mkdtempSync(join(tmpdir(), "xraygpt-home-"));
});

after(async () => {
  rmSync(home, { recursive: true, force: true });
  await ws.cleanup();
});

/** The calls in an strace log that send to an address other than a unix socket, loopback or netlink, or to port 53 anywhere. */
function outboundCalls(log: string): string[] {
  return log
    .split("\n")
    .filter((l) => /\b(connect|sendto|sendmsg|sendmmsg)\(/.test(l) && /sa_family=/.test(l))
    .filter((l) => {
      if (/htons\(53\)/.test(l)) return true;
      if (/sa_family=AF_(UNIX|LOCAL|NETLINK)\b/.test(l)) return false;
      if (/sa_family=AF_INET,/.test(l)) return !/inet_addr\("127\./.test(l);
      if (/sa_family=AF_INET6,/.test(l)) return !/inet_pton\(AF_INET6, "::1"\)/.test(l) && !/"::ffff:127\./.test(l);
      return true;
    });
}

test("outboundCalls flags internet and DNS traffic, not unix sockets or loopback", () => {
  const log = [
    '101 connect(20, {sa_family=AF_UNIX, sun_path="/tmp/x.sock"}, 110) = 0',
    '101 connect(21, {sa_family=AF_INET, sin_port=htons(9000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
    '102 sendto(22, "..."..., 40, MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 40',
    '103 connect(23, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2603:1030::1", &sin6_addr), sin6_scope_id=0}, 28) = -1',
    '104 sendto(5, [{nlmsg_len=20, nlmsg_type=RTM_GETADDR}], 20, 0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 20',
    '105 connect(24, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0',
  ].join("\n");
  assert.deepEqual(outboundCalls(log).map((l) => l.split(" ")[0]), ["102", "103", "105"]);
});

test("the daemon and its children connect nowhere and write no telemetry", { skip: !STRACE && "strace is not installed (apt-get install strace)", timeout: 180_000 }, async () => {
  const traceLog = join(home, "strace.log");
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XRAYGPT_THREADS: "1" };
  delete env.ORT_DISABLE_TELEMETRY; // the daemon must turn it off itself
  const before = new Set(readdirSync("/tmp"));
  const daemon = await startStdioDaemon(ws.modelsDir, FIXTURE_MODEL, env, [], ["strace", "-f", "-qq", "-e", "trace=network", "-o", traceLog]);
  try {
    const s = await daemon.rpc.sendRequest(SummarizeRequest, { jobId: "s", image: ws.images[0]! });
    assert.ok(s.text.length > 0);
    const c = await daemon.rpc.sendRequest(ChatRequest, { jobId: "c", image: ws.images[1]!, message: "Is there a pleural effusion?" });
    assert.ok(c.text.length > 0);
    const a = await daemon.rpc.sendRequest(AnnotateRequest, { jobId: "a", images: ws.images, out: join(ws.dir, "net.jsonl") });
    assert.equal(a.annotated, 3);
    await new Promise((r) => setTimeout(r, IDLE_MS));
  } finally {
    await daemon.stop();
  }
  const log = readFileSync(traceLog, "utf8");
  const pids = new Set(log.split("\n").map((l) => l.split(" ")[0]).filter(Boolean));
  assert.ok(log.includes("AF_UNIX") || pids.size > 0, "strace recorded the daemon");
  assert.deepEqual(outboundCalls(log), [], "no connection leaves the machine");
  assert.ok(!existsSync(join(home, ".cache", "Microsoft")), "no onnxruntime telemetry database in HOME");
  const newDebugLogs = readdirSync("/tmp").filter((f) => /^mat-debug-\d+\.log$/.test(f) && !before.has(f) && pids.has(f.match(/\d+/)![0]));
  assert.deepEqual(newDebugLogs, [], "no onnxruntime telemetry log in /tmp");
});

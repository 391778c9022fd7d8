import { test } from "node:test";
import assert from "node:assert/strict";
import { AbortedError, JobQueue, servingOrder } from "./job-queue.js";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test("runs one job at a time and serves owners round-robin", async () => {
  const q = new JobQueue(1);
  const order: string[] = [];
  const gate = deferred();
  const first = q.run("a", async () => {
    order.push("a1");
    await gate.promise;
  });
  const jobs = [
    q.run("a", async () => void order.push("a2")),
    q.run("a", async () => void order.push("a3")),
    q.run("b", async () => void order.push("b1")),
    q.run("c", async () => void order.push("c1")),
  ];
  assert.deepEqual(q.size, { running: 1, queued: 4 });
  gate.resolve();
  await Promise.all([first, ...jobs]);
  assert.deepEqual(order, ["a1", "b1", "c1", "a2", "a3"]);
  assert.deepEqual(q.size, { running: 0, queued: 0 });
});

test("reports queue positions and drops a job aborted while waiting", async () => {
  const q = new JobQueue(1);
  const gate = deferred();
  const running = q.run("x", () => gate.promise);
  const positions: number[] = [];
  const ac = new AbortController();
  const waiting = q.run("y", async () => "ran", { signal: ac.signal, onPosition: (p) => positions.push(p) });
  const after = q.run("z", async () => "z ran");
  ac.abort();
  await assert.rejects(waiting, AbortedError);
  gate.resolve();
  await running;
  assert.equal(await after, "z ran");
  assert.deepEqual(positions, [0]);
});

test("runs up to `parallel` jobs at once", async () => {
  const q = new JobQueue(2);
  let live = 0;
  let peak = 0;
  const job = async () => {
    live++;
    peak = Math.max(peak, live);
    await new Promise((r) => setTimeout(r, 5));
    live--;
  };
  await Promise.all(Array.from({ length: 6 }, (_, i) => q.run(`o${i % 3}`, job)));
  assert.equal(peak, 2);
});

test("servingOrder puts never-served owners first, FIFO within an owner", () => {
  const w = [{ owner: "a", n: 1 }, { owner: "a", n: 2 }, { owner: "b", n: 3 }, { owner: "c", n: 4 }];
  assert.deepEqual(servingOrder(w, ["b", "c", "a"]).map((x) => x.n), [3, 4, 1, 2]);
  assert.deepEqual(servingOrder(w, ["a"]).map((x) => x.n), [3, 4, 1, 2]);
  assert.deepEqual(servingOrder(w, ["c", "b"]).map((x) => x.n), [1, 4, 3, 2]);
});

test("a chatty owner's backlog delays a newcomer by at most one job; turns alternate after that", async () => {
  const q = new JobQueue(1);
  const order: string[] = [];
  const gate = deferred();
  const first = q.run("chatty", async () => {
    order.push("chatty0");
    await gate.promise;
  });
  const chatty = Array.from({ length: 50 }, (_, i) => q.run("chatty", async () => void order.push(`chatty${i + 1}`)));
  const late = ["b", "c"].flatMap((o) => [1, 2].map((i) => q.run(o, async () => void order.push(`${o}${i}`))));
  gate.resolve();
  await Promise.all([first, ...chatty, ...late]);
  assert.deepEqual(order.slice(0, 7), ["chatty0", "b1", "c1", "chatty1", "b2", "c2", "chatty2"]);
  assert.equal(order.length, 55);
});

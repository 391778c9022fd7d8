import { test } from "node:test";
import assert from "node:assert/strict";
import { DOWN_BASE_MS, EndpointPool } from "./endpoint-pool.js";

const none = new Set<never>();

test("least loaded first, up to perEndpoint each; a full pool waits for a release", async () => {
  const pool = new EndpointPool(["http://a/v1/", "http://b/v1"], 2);
  const got = [await pool.acquire(none), await pool.acquire(none), await pool.acquire(none), await pool.acquire(none)];
  assert.deepEqual(got.map((e) => e!.url), ["http://a/v1", "http://b/v1", "http://a/v1", "http://b/v1"]);
  let fifth: string | undefined;
  const waiting = pool.acquire(none).then((e) => (fifth = e!.url));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(fifth, undefined, "waits while every endpoint is full");
  pool.release(got[1]!);
  await waiting;
  assert.equal(fifth, "http://b/v1");
});

test("a failed endpoint is down with a doubling backoff, then takes one probe at a time until it succeeds", async () => {
  let changes = 0;
  const pool = new EndpointPool(["http://a/v1", "http://b/v1"], 4, () => changes++);
  const a = pool.endpoints[0]!;
  pool.failed(a, "ECONNREFUSED");
  assert.equal(changes, 1);
  const first = a.downUntil - Date.now();
  assert.ok(first > DOWN_BASE_MS - 50 && first <= DOWN_BASE_MS, String(first));
  pool.failed(a, "ECONNREFUSED");
  assert.ok(a.downUntil - Date.now() > 2 * DOWN_BASE_MS - 50);
  // While down, every request goes to b; skipping b leaves nothing.
  assert.equal((await pool.acquire(none))!.url, "http://b/v1");
  assert.equal(await pool.acquire(new Set([pool.endpoints[1]!])), undefined);
  assert.deepEqual(
    pool.health().map((h) => [h.up, h.failures, h.lastError]),
    [[false, 2, "ECONNREFUSED"], [true, 0, undefined]],
  );
  assert.ok(pool.nextUpInMs() === 0);
  // Backoff over: one probe at a time.
  a.downUntil = Date.now();
  const skipB = new Set([pool.endpoints[1]!]);
  const probe = await pool.acquire(skipB);
  assert.equal(probe, a);
  let second = false;
  const waiting = pool.acquire(skipB).then(() => (second = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(second, false, "a second request waits for the probe");
  pool.succeeded(a);
  pool.release(a);
  await waiting;
  assert.equal(second, true);
  assert.deepEqual(pool.health()[0], { url: "http://a/v1", up: true, inFlight: 1, failures: 0 });
});

test("a waiter gives up when its signal aborts", async () => {
  const pool = new EndpointPool(["http://a/v1"], 1);
  await pool.acquire(none);
  const ac = new AbortController();
  const waiting = pool.acquire(none, ac.signal);
  ac.abort();
  assert.equal(await waiting, undefined);
});

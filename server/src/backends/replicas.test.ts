/**
 * A findings-text model in several model processes (replicas): generations run side by side, one
 * per process; a prompt goes back to the process that last saw its start (a chat turn); "auto"
 * takes as many as the cores hold at the engine's threads.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { writeFixtureModel } from "../testing/fixture-model.js";
import { loadManifest, type LoadedManifest } from "../models/manifest.js";
import { XrayEngine } from "../engine/engine.js";
import { FindingsTextBackend } from "./findings-text.js";
import type { SamplingSettings } from "../host/messages.js";

let dir: string;
let entry: LoadedManifest;
const SETTINGS: SamplingSettings = { maxTokens: 24, temperature: 0, topP: 1, topK: 1, repeatPenalty: 1, seed: 0 };
const prompt = (text: string) => ({ text, findings: { labels: [] }, question: "Describe." });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "xraygpt-replicas-"));
  entry = await loadManifest(join(await writeFixtureModel(join(dir, "models"), "fixture-tiny"), "model.json"));
});
after(() => rm(dir, { recursive: true, force: true }));

test("two replicas run two generations at once, one each; a later turn goes back to its process", async () => {
  const b = new FindingsTextBackend(entry, { device: "cpu", threads: 1, replicas: 2, log: () => {} });
  try {
    await b.load();
    assert.equal(b.parallel, 2);
    assert.equal(b.replicas[1]!.pid, undefined, "the second process starts on its first generation");
    const [p1, p2] = ["###Patient: first image ###Doctor:", "###Patient: second image ###Doctor:"];
    const [a, c] = await Promise.all([b.generate(prompt(p1), SETTINGS, { purpose: "summary" }), b.generate(prompt(p2), SETTINGS, { purpose: "summary" })]);
    assert.ok(a.tokens > 0 && c.tokens > 0);
    const pids = b.replicas.map((r) => r.pid);
    assert.ok(pids[0] && pids[1] && pids[0] !== pids[1], `two processes: ${pids}`);
    // Both idle now: a follow-up of each conversation goes where its earlier turns are.
    assert.equal(b.chooseReplica(`${p2}${c.text} ###Patient: and the heart? ###Doctor:`), b.replicas[1]);
    assert.equal(b.chooseReplica(`${p1}${a.text} ###Patient: and the heart? ###Doctor:`), b.replicas[0]);
    // The same prompt gives the same text on either process.
    assert.equal((await b.generate(prompt(p1), SETTINGS, { purpose: "summary" })).text, a.text);
    assert.match(b.info!.detail, /2 model processes/);
  } finally {
    await b.unload();
  }
});

test("replicas: 1 by default, a number as given, auto as many as the cores hold at the threads (at most 4)", async () => {
  const models = join(dir, "models");
  const count = async (replicas?: number | "auto", threads = 1) => {
    const e = new XrayEngine({ modelsDirs: [models], defaultModel: "fixture-tiny", device: "cpu", threads, ...(replicas !== undefined ? { replicas } : {}) });
    try {
      return (await e.listModels()).find((m) => m.id === "fixture-tiny")!.replicas;
    } finally {
      await e.dispose();
    }
  };
  assert.equal(await count(), 1);
  assert.equal(await count(3), 3);
  assert.equal(await count("auto", 1), Math.max(1, Math.min(4, availableParallelism())));
  assert.equal(await count("auto", 64), 1, "threads enough for the whole machine: one");
});

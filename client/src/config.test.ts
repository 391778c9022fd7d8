import { test } from "node:test";
import assert from "node:assert/strict";
import { readConfig } from "./config.js";
import { RestartPolicy } from "./backoff.js";

test("defaults when nothing is set", () => {
  const { config, problems } = readConfig(() => undefined);
  assert.deepEqual(problems, []);
  assert.equal(config.device, "auto");
  assert.equal(config.daemonMode, "per-window");
  assert.equal(config.maxTokens, 512);
  assert.equal(config.model, undefined);
  assert.equal(config.temperature, undefined);
  assert.equal(config.showPatientTags, false);
  assert.equal(config.trace, "off");
  assert.match(config.socketPath, /\/xraygpt(-\d+)?\/daemon\.sock$/, "in a folder of the user's own");
});

test("values are read, trimmed and checked; bad ones are reported and defaulted", () => {
  const values: Record<string, unknown> = { model: " tiny ", device: "gpu", daemonMode: "shared", maxTokens: 64, temperature: 0.7, reportsFolder: "reports", "viewer.showPatientTags": true, "trace.server": "verbose" };
  const { config, problems } = readConfig((k) => values[k]);
  assert.deepEqual(problems, []);
  assert.deepEqual([config.model, config.device, config.daemonMode, config.maxTokens, config.temperature, config.reportsFolder, config.showPatientTags, config.trace], ["tiny", "gpu", "shared", 64, 0.7, "reports", true, "verbose"]);
  const bad = readConfig((k) => ({ device: "tpu", maxTokens: -3, temperature: "hot", daemonMode: 1 } as Record<string, unknown>)[k]);
  assert.equal(bad.problems.length, 4);
  assert.match(bad.problems.join("\n"), /xraygpt\.device must be one of auto, cpu, gpu \(got "tpu"\)/);
  assert.equal(bad.config.device, "auto");
  assert.equal(bad.config.maxTokens, 512);
});

test("restart backoff doubles, is bounded, and gives up after too many crashes", () => {
  const p = new RestartPolicy({ maxRestarts: 4, windowMs: 60_000, baseMs: 500, maxDelayMs: 2000 });
  assert.deepEqual([0, 1, 2, 3].map((i) => p.onCrash(i * 10)), [500, 1000, 2000, 2000]);
  assert.equal(p.onCrash(50), undefined, "fifth crash in the window: give up");
  const q = new RestartPolicy({ maxRestarts: 2, windowMs: 1000 });
  q.onCrash(0);
  q.onCrash(10);
  assert.equal(q.onCrash(5000), 500, "old crashes are forgotten");
});

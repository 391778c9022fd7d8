// The manifest's consensus settings: evidence candidates below the candidate count, and a remote
// model borrowing the bundled model's settings decodes plainly (one candidate, no evidence).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixtureManifest } from "../testing/fixture-model.js";
import { loadManifest, ManifestError, parseManifest } from "./manifest.js";
import { addRemoteModel } from "./remote-manifest.js";
import { BUNDLED_MODELS_DIR } from "./registry.js";

const problems = (json: unknown): string[] => {
  try {
    parseManifest(json, "m.json");
    return [];
  } catch (e) {
    return (e as ManifestError).problems;
  }
};

test("evidenceCandidates must leave candidate 0 an answer", () => {
  const m = fixtureManifest("g");
  const withGeneration = (g: object) => ({ ...m, generation: { ...m.generation, ...g } });
  assert.deepEqual(problems(withGeneration({ candidates: 8, evidenceCandidates: 3 })), []);
  assert.deepEqual(problems(withGeneration({ candidates: 8, evidenceCandidates: 0 })), []);
  assert.match(problems(withGeneration({ candidates: 8, evidenceCandidates: 8 })).join(), /evidenceCandidates must be below candidates \(8 of 8\)/);
  assert.match(problems(withGeneration({ evidenceCandidates: 2 })).join(), /\(2 of 1\)/, "candidates unset: one");
});

test("a remote model made from the bundled one decodes one candidate with no evidence", async () => {
  const bundled = await loadManifest(join(BUNDLED_MODELS_DIR, "xraygpt-mini", "model.json"));
  assert.ok((bundled.manifest.generation.evidenceCandidates ?? 0) > 0, "the bundled model uses evidence candidates");
  const dir = mkdtempSync(join(tmpdir(), "xraygpt-remote-gen-"));
  try {
    const { manifest } = await addRemoteModel({ id: "far", modelsDir: dir, fromManifest: join(BUNDLED_MODELS_DIR, "xraygpt-mini", "model.json"), backend: { baseUrls: ["http://127.0.0.1:9/v1"], model: "m", api: "completions" } });
    assert.equal(manifest.generation.candidates, 1);
    assert.equal(manifest.generation.evidenceCandidates, 0);
    const again = await loadManifest(join(dir, "far", "model.json"));
    assert.equal(again.manifest.generation.evidenceCandidates, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

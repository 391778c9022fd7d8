// The multimodal manifest mode and `models add`'s checks, without the daemon: the GGUF header
// checks on the tiny fixtures (both projector types), the manifest rules, and the registry's
// one-line reason when the multimodal module cannot be used here.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyVlm, type TinyVlm } from "../testing/tiny-vlm.js";
import { fixtureManifest } from "../testing/fixture-model.js";
import { addMultimodalModel, inspectVlmFiles } from "./multimodal-manifest.js";
import { ManifestError, parseManifest } from "./manifest.js";
import { scanModels } from "./registry.js";
import { readGgufHeader } from "../gguf/reader.js";

const root = mkdtempSync(join(tmpdir(), "xraygpt-mm-manifest-"));
const vlms: Record<string, TinyVlm> = {};
before(async () => {
  for (const projector of ["mlp", "gemma3"] as const) vlms[projector] = await writeTinyVlm(root, { projector, seed: 2, llmEmbd: 40 });
});
after(() => rmSync(root, { recursive: true, force: true }));

const multimodal = (over: Record<string, unknown> = {}) => ({
  id: "vlm",
  name: "vlm",
  version: "1",
  license: "x",
  llm: { file: "/abs/llm.gguf", mmproj: "/abs/mmproj.gguf", contextSize: 512 },
  conditioning: { mode: "multimodal" },
  prompt: { template: "<ImageHere>\n{prompt}", stop: [], defaultPrompt: "Describe." },
  generation: { maxTokens: 8, temperature: 0, topP: 1, topK: 0, repeatPenalty: 1, seed: 0 },
  ...over,
});

describe("models add checks", () => {
  for (const projector of ["mlp", "gemma3"]) {
    test(`${projector}: the projector type and its output width, read from the GGUF headers`, () => {
      const v = vlms[projector]!;
      const info = inspectVlmFiles(v.gguf, v.mmproj);
      assert.equal(info.llm.architecture, "llama");
      assert.equal(info.llm.nEmbd, 40);
      assert.equal(info.llm.chatTemplate, true);
      assert.equal(info.mmproj.projectorType, projector);
      assert.equal(info.mmproj.outputWidth, 40);
      assert.equal(info.mmproj.imageSize, v.imageSize);
      const h = readGgufHeader(v.mmproj);
      assert.equal(h.dataEnd, h.fileSize, "the tensor table accounts for every byte after the header");
    });
  }

  test("a FIFO is refused, not waited on; the manifest it writes is never overwritten", async () => {
    const fifo = join(root, "fifo.gguf");
    execFileSync("mkfifo", [fifo]);
    assert.throws(() => inspectVlmFiles(vlms.mlp!.gguf, fifo), /fifo\.gguf is not a regular file/);
    const modelsDir = join(root, "models");
    const first = await addMultimodalModel({ id: "tiny", modelsDir, gguf: vlms.mlp!.gguf, mmproj: vlms.mlp!.mmproj, contextSize: 100_000 });
    assert.equal(first.manifest.llm!.contextSize, inspectVlmFiles(vlms.mlp!.gguf, vlms.mlp!.mmproj).llm.contextLength, "capped at the model's training context");
    await assert.rejects(addMultimodalModel({ id: "tiny", modelsDir, gguf: vlms.mlp!.gguf, mmproj: vlms.mlp!.mmproj }), /exists already/);
  });
});

describe("the multimodal manifest mode", () => {
  test("needs mmproj and one <ImageHere>; a classifier needs {findings}; no vision block needed", () => {
    assert.equal(parseManifest(multimodal(), "m.json").conditioning.mode, "multimodal");
    const problems = (json: unknown) => {
      try {
        parseManifest(json, "m.json");
        return [];
      } catch (e) {
        return (e as ManifestError).problems;
      }
    };
    assert.match(problems(multimodal({ llm: { file: "a.gguf", contextSize: 512 } })).join(), /needs mmproj/);
    assert.match(problems(multimodal({ prompt: { template: "{prompt}", stop: [], defaultPrompt: "x" } })).join(), /exactly one <ImageHere>/);
    const { vision } = fixtureManifest("c");
    assert.match(problems(multimodal({ vision })).join(), /needs \{findings\}/);
    assert.deepEqual(problems(multimodal({ vision, prompt: { template: "<ImageHere>\n{findings} {prompt}", stop: [], defaultPrompt: "x" } })), []);
    assert.match(problems({ ...fixtureManifest("f"), vision: undefined }).join(), /must have required property 'vision'/);
  });

  test("the registry lists it as unavailable, with the reason, when the multimodal module cannot load", async () => {
    const dir = join(root, "scan");
    await mkdir(join(dir, "vlm"), { recursive: true });
    await writeFile(join(dir, "vlm", "model.json"), JSON.stringify(multimodal({ llm: { file: vlms.gemma3!.gguf, mmproj: vlms.gemma3!.mmproj, contextSize: 512 } })));
    const off = await scanModels([dir], { mtmdAddon: () => ({ ok: false, reason: "multimodal models unavailable: the multimodal module was not built: g++ failed" }) });
    assert.equal(off.get("vlm")?.problem, "multimodal models unavailable: the multimodal module was not built: g++ failed");
    const on = await scanModels([dir], { mtmdAddon: () => ({ ok: true }) });
    assert.ok(on.get("vlm")?.loaded, on.get("vlm")?.problem);
    assert.equal(on.get("vlm")?.loaded?.mmprojPath, vlms.gemma3!.mmproj);
  });
});

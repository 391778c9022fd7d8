import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, type LlamaModel } from "node-llama-cpp";
import { writeTinyLlama } from "../testing/tiny-llama.js";
import { Detokenizer } from "./detokenizer.js";

let dir: string;
let model: LlamaModel;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "xraygpt-detok-"));
  await writeTinyLlama(join(dir, "m.gguf"));
  model = await (await getLlama({ gpu: false, build: "never" })).loadModel({ modelPath: join(dir, "m.gguf") });
});
after(async () => {
  await model.dispose();
  await rm(dir, { recursive: true, force: true });
});

test("streamed pieces concatenate to the full detokenization, multi-byte characters whole", () => {
  for (const text of ["the lungs are clear", "Héllo wörld — 3×4 ≥ 2 µm naïve", "no  pleural\teffusion.\n\nImpression: ✓ 肺"]) {
    const tokens = model.tokenize(text);
    const d = new Detokenizer(model);
    const pieces = tokens.map((t) => d.push(t));
    pieces.push(d.flush());
    assert.equal(pieces.join(""), model.detokenize(tokens), text);
    for (const p of pieces) assert.ok(!p.includes("\uFFFD"), `no broken character in ${JSON.stringify(p)}`);
  }
});

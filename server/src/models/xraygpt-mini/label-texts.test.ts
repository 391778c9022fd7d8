import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mentionedFindings } from "./label-texts.js";
import { typicality } from "../../eval/label-ceiling.js";

test("mentionedFindings: the extractor's present / uncertain / absent observations, No Finding left out", () => {
  assert.deepEqual(mentionedFindings("The heart is enlarged. Possible small left effusion. No pneumothorax."), [
    ["Cardiomegaly", 1],
    ["Pneumothorax", 0],
    ["Pleural Effusion", -1],
  ]);
  assert.ok(mentionedFindings("The lungs are clear.").every(([, v]) => v === 0), "clear lungs deny, never state");
  assert.deepEqual(mentionedFindings("Degenerative changes of the spine."), []);
});

test("label-texts CLI: JSON array in, one entry per text out; bad input is named", () => {
  const dir = mkdtempSync(join(tmpdir(), "xraygpt-label-texts-"));
  const script = fileURLToPath(new URL("./label-texts.js", import.meta.url));
  try {
    writeFileSync(join(dir, "in.json"), JSON.stringify(["There is a right pneumothorax.", "Normal chest."]));
    execFileSync(process.execPath, [script, join(dir, "in.json"), join(dir, "out.json")]);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "out.json"), "utf8")), [[["Pneumothorax", 1]], []]);
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ text: "x" }));
    assert.throws(() => execFileSync(process.execPath, [script, join(dir, "bad.json"), join(dir, "o2.json")], { stdio: "pipe" }), /expected a JSON array of strings/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("typicality-texts CLI: {key, text} in, one number per text out (the eval's typicality); bad input is named", () => {
  const dir = mkdtempSync(join(tmpdir(), "xraygpt-typicality-"));
  const script = fileURLToPath(new URL("./typicality-texts.js", import.meta.url));
  try {
    const texts = [
      { key: "", text: "The lungs are clear." },
      { key: "", text: "The lungs are clear. No effusion." },
      { key: "Edema", text: "There is pulmonary edema." },
    ];
    writeFileSync(join(dir, "in.json"), JSON.stringify(texts));
    execFileSync(process.execPath, [script, join(dir, "in.json"), join(dir, "out.json")]);
    const out = JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as number[];
    assert.deepEqual(out, typicality(texts));
    assert.ok(out[0]! > 0.5 && out[1]! > 0.5 && out[2] === 0, JSON.stringify(out));
    writeFileSync(join(dir, "bad.json"), JSON.stringify(["x"]));
    assert.throws(() => execFileSync(process.execPath, [script, join(dir, "bad.json"), join(dir, "o2.json")], { stdio: "pipe" }), /expected a JSON array of \{key, text\}/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ID_MAPPING_PRESETS, IU_XRAY_ID_PATTERN, asIdMapping, describeMapping, noReferenceMatch, patternProblem, previewId } from "./id-mapping.js";

test("the IU X-ray preset maps Open-i image names to the reports' uid", () => {
  const iu = ID_MAPPING_PRESETS.find((p) => p.label.startsWith("IU X-ray"))!;
  assert.deepEqual(iu.mapping, { idPattern: IU_XRAY_ID_PATTERN });
  // The automatic id of ".../1_IM-0001-4001.dcm.png" is its name without extensions.
  assert.equal(previewId("1_IM-0001-4001", iu.mapping), "1");
  assert.equal(previewId("3261_IM-1389-1001", iu.mapping), "3261");
  assert.equal(previewId("CXR12", iu.mapping), undefined, "not an IU name");
  assert.equal(previewId("CXR12", {}), "CXR12", "the automatic match keeps the id");
  assert.equal(previewId("x", { predIdField: "study" }), undefined, "another field: unknown from the id");
});

test("a typed pattern must be a regular expression that fits the example id", () => {
  assert.equal(patternProblem("^(\\d+)_", "1_IM-0001-4001"), undefined);
  assert.match(patternProblem("^(\\d+", "1_IM")!, /^Not a regular expression/);
  assert.match(patternProblem("^CXR(\\d+)", "1_IM-0001-4001")!, /does not match the first prediction's id "1_IM-0001-4001"/);
  assert.match(patternProblem("")!, /Type a regular expression/);
});

test("the daemon's no-match failure is recognised, and the preset then matches (evaluateFiles on IU-style fixtures)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "xraygpt-idmap-"));
  try {
    const names = ["1_IM-0001-4001.dcm.png", "3_IM-1384-1001.dcm.png", "4_IM-2050-1001.dcm.png", "5_IM-2117-1003002.dcm.png"];
    writeFileSync(join(dir, "pred.jsonl"), names.map((n) => JSON.stringify({ image: `/images/${n}`, text: "No acute disease." })).join("\n") + "\n");
    writeFileSync(join(dir, "reports.csv"), 'uid,findings,impression\n1,"Lungs are clear.","No acute disease."\n3,"Cardiomegaly.","Cardiomegaly."\n4,"Clear.","Normal chest."\n5,"Clear.","Negative."\n');
    const { evaluateFiles } = (await import("xraygpt/evaluate/run")) as typeof import("xraygpt/evaluate/run");
    const run = (predictions: { idPattern?: string }) => evaluateFiles(join(dir, "pred.jsonl"), join(dir, "reports.csv"), { predictions, references: {}, scores: { bootstrap: 10 } });
    let message = "";
    assert.throws(() => run({}), (e: Error) => ((message = e.message), true));
    assert.deepEqual(noReferenceMatch(message), { predictions: 4, firstId: "1_IM-0001-4001" });
    assert.equal(noReferenceMatch("ENOENT: no such file"), undefined, "other failures are not a mapping question");
    assert.equal(run(ID_MAPPING_PRESETS[0]!.mapping).counts.pairs, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("mappings read back from workspace state, and in words", () => {
  assert.deepEqual(asIdMapping({ idPattern: "^(\\d+)_", predIdField: 3, extra: 1 }), { idPattern: "^(\\d+)_" });
  assert.equal(asIdMapping("nonsense"), undefined);
  assert.equal(describeMapping({}), "the automatic match");
  assert.equal(describeMapping({ predIdField: "study" }), 'ids from the field "study"');
});

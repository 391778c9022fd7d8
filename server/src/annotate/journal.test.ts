import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Journal } from "./journal.js";
import type { LogRecord } from "./record.js";

const dir = () => mkdtempSync(join(tmpdir(), "xraygpt-journal-"));
const rec = (n: number) => ({ type: "annotation", schema: 1, image: `/i/${n}.png`, sha256: String(n) }) as unknown as LogRecord;

test("appends one fsynced line per record and reads them back", () => {
  const path = join(dir(), "log.jsonl");
  const j = Journal.open(path);
  assert.equal(j.state.records.length, 0);
  j.append(rec(1));
  j.append(rec(2));
  j.close();
  assert.equal(readFileSync(path, "utf8"), `${JSON.stringify(rec(1))}\n${JSON.stringify(rec(2))}\n`);
  const again = Journal.open(path);
  assert.deepEqual(again.state.records, [rec(1), rec(2)]);
  assert.equal(again.state.repair, undefined);
  again.close();
});

test("a half-written last line is moved to the .corrupt sidecar and the log truncated, with a warning", () => {
  const path = join(dir(), "log.jsonl");
  const good = JSON.stringify(rec(1)) + "\n";
  const partial = JSON.stringify(rec(2)).slice(0, 25);
  writeFileSync(path, good + partial);
  const warnings: string[] = [];
  const j = Journal.open(path, (w) => warnings.push(w));
  assert.deepEqual(j.state.repair, { action: "moved-to-sidecar", bytes: 25, sidecar: `${path}.corrupt` });
  assert.equal(readFileSync(path, "utf8"), good);
  assert.equal(readFileSync(`${path}.corrupt`, "utf8"), partial + "\n");
  assert.match(warnings.join("\n"), /cut short.*moved it to .*log\.jsonl\.corrupt/);
  j.append(rec(3));
  j.close();
  assert.equal(readFileSync(path, "utf8"), good + JSON.stringify(rec(3)) + "\n");
});

test("a complete last line missing only its newline is kept and completed", () => {
  const path = join(dir(), "log.jsonl");
  writeFileSync(path, JSON.stringify(rec(1)) + "\n" + JSON.stringify(rec(2)));
  const warnings: string[] = [];
  const j = Journal.open(path, (w) => warnings.push(w));
  assert.equal(j.state.repair?.action, "completed-line");
  assert.deepEqual(j.state.records, [rec(1), rec(2)]);
  j.close();
  assert.ok(readFileSync(path, "utf8").endsWith("}\n"));
  assert.ok(!existsSync(`${path}.corrupt`));
  assert.equal(warnings.length, 1);
});

test("unparseable lines in the middle are reported and left in place", () => {
  const path = join(dir(), "log.jsonl");
  const text = JSON.stringify(rec(1)) + "\nnot json\n[1]\n" + JSON.stringify(rec(2)) + "\n";
  writeFileSync(path, text);
  const warnings: string[] = [];
  const j = Journal.open(path, (w) => warnings.push(w));
  j.close();
  assert.deepEqual(j.state.badLines, [
    { line: 2, reason: "not valid JSON" },
    { line: 3, reason: "not a JSON object" },
  ]);
  assert.equal(j.state.records.length, 2);
  assert.equal(readFileSync(path, "utf8"), text);
  assert.equal(warnings.length, 2);
});

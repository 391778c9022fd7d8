import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCsv, readCsvTable } from "./csv.js";

test("quoted fields with commas, quotes and line breaks; CRLF; BOM", () => {
  const text = '\ufeffuid,text\r\n1,"a, b"\r\n2,"say ""hi""\nnext line"\n3,plain\n';
  assert.deepEqual(parseCsv(text), [["uid", "text"], ["1", "a, b"], ["2", 'say "hi"\nnext line'], ["3", "plain"]]);
  assert.deepEqual(parseCsv("a,,c"), [["a", "", "c"]]);
  assert.deepEqual(parseCsv('x,""\n'), [["x", ""]]);
});

test("malformed CSV gives errors naming the file and line", () => {
  assert.throws(() => parseCsv('a,"open\n\n', "r.csv"), /r\.csv: line 1: quoted field is never closed/);
  assert.throws(() => parseCsv('a,b"c"\n', "r.csv"), /r\.csv: line 1: quote inside an unquoted field/);
  assert.throws(() => parseCsv('a,"b"c\n', "r.csv"), /unexpected character after closing quote/);
});

test("readCsvTable maps header names and checks field counts", () => {
  const dir = mkdtempSync(join(tmpdir(), "xraygpt-csv-"));
  const ok = join(dir, "ok.csv");
  writeFileSync(ok, 'uid,findings,impression\n1,"Heart normal, lungs clear.",Normal.\n');
  assert.deepEqual(readCsvTable(ok), { header: ["uid", "findings", "impression"], rows: [{ uid: "1", findings: "Heart normal, lungs clear.", impression: "Normal." }] });
  const bad = join(dir, "bad.csv");
  writeFileSync(bad, "uid,findings\n1,a,b\n");
  assert.throws(() => readCsvTable(bad), /bad\.csv: record 1 has 3 fields, the header has 2/);
  assert.throws(() => readCsvTable(join(dir, "missing.csv")), /missing\.csv: file not found \(ENOENT\)/);
});

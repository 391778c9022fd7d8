import { test } from "node:test";
import assert from "node:assert/strict";
import { draftStatusLine } from "./commands/summarize.js";

test("the terminal status line shows the provisional draft and candidate count, and clears at the answer", () => {
  let out = "";
  const s = draftStatusLine((t) => (out += t), 60);
  s.onProgress({ stage: "generate", candidates: { done: 3, total: 64 } });
  s.onToken("Findings: the lungs", 4, { provisional: true });
  s.onToken(" are clear.", 7, { provisional: true });
  const lastLine = out.slice(out.lastIndexOf("\r"));
  assert.match(lastLine, /3\/64 candidates · draft: Findings: the lungs are clear\./);
  const before = out.length;
  s.onToken("The chosen answer.", 5, { replace: true });
  assert.equal(out.slice(before), "\r\x1b[2K");
  assert.doesNotMatch(out, /The chosen answer/);
});

test("a long draft shows its end, within the terminal width", () => {
  let out = "";
  const s = draftStatusLine((t) => (out += t), 40);
  s.onToken("word ".repeat(50) + "END", 50, { provisional: true });
  const shown = out.slice(out.lastIndexOf("\r")).replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").slice(1);
  assert.ok(shown.length <= 40, `${shown.length}: ${shown}`);
  assert.match(shown, /END$/);
});

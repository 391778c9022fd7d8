// Runs every compiled test (*.test.js) of the workspaces with node's built-in test runner.
// Usage: node scripts/run-tests.mjs [--abuse] [substring-filter ...]
// --abuse: the abuse suite instead (*.abuse.js, plus the regression tests of the guarded inputs).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const roots = ["protocol/dist", "server/dist", "client/out"];
const abuse = process.argv[2] === "--abuse";
const filters = process.argv.slice(abuse ? 3 : 2);
/** Regression tests (normal *.test.js files) that the abuse suite runs too. */
const ABUSE_REGRESSIONS = ["decode-structure.test.js", "decode-errors.test.js", "lock.test.js", "journal.test.js", "model-guards.test.js"];
const wanted = (name) => (abuse ? name.endsWith(".abuse.js") || ABUSE_REGRESSIONS.includes(name) : name.endsWith(".test.js"));
const files = [];
function walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (wanted(name) && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p);
  }
}
roots.forEach(walk);
if (files.length === 0) {
  console.error("no test files found (did tsc -b run?)");
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);

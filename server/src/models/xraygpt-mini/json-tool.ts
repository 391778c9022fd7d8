/**
 * The shape of the xraygpt-mini training helpers that Python calls: `node TOOL.js IN.json OUT.json`
 * reads a JSON value, checks it, and writes the function's result as JSON; errors go to stderr
 * with exit status 1.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

export function runJsonTool<T>(moduleUrl: string, name: string, check: (v: unknown) => v is T, expected: string, fn: (input: T) => unknown): void {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const [input, output] = process.argv.slice(2);
  (async () => {
    if (!input || !output) throw new Error(`usage: ${name} IN.json OUT.json`);
    const value: unknown = JSON.parse(await readFile(input, "utf8"));
    if (!check(value)) throw new Error(`${input}: expected ${expected}`);
    await writeFile(output, JSON.stringify(fn(value)));
  })().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}

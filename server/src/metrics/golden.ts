/** Reads the committed golden files (made by golden/make-golden.py) for the metrics tests. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** server/src/metrics/golden/<name>, from either src/ or dist/. */
export function readGolden<T>(name: string): T {
  const url = new URL(`../../src/metrics/golden/${name}`, import.meta.url);
  return JSON.parse(readFileSync(fileURLToPath(url), "utf8")) as T;
}

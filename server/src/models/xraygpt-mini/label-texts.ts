/**
 * xraygpt-mini training helper: the project's label extractor over a list of texts, so the Python
 * training builds its targets with exactly the labels `npm run eval` will read back.
 *
 *   node server/dist/models/xraygpt-mini/label-texts.js IN.json OUT.json
 *
 * IN is a JSON array of strings; OUT a JSON array, per text, of the observations it mentions (No
 * Finding excluded), in CheXpert order, each with its value: 1 present, -1 uncertain, 0 absent.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { extractLabels, OBSERVATIONS } from "../../metrics/index.js";

export function mentionedFindings(text: string): [string, 1 | 0 | -1][] {
  const labels = extractLabels(text);
  const out: [string, 1 | 0 | -1][] = [];
  for (const o of OBSERVATIONS) {
    const v = labels[o];
    if (o !== "No Finding" && (v === 1 || v === 0 || v === -1)) out.push([o, v]);
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const [input, output] = argv;
  if (!input || !output) throw new Error("usage: label-texts IN.json OUT.json");
  const texts: unknown = JSON.parse(await readFile(input, "utf8"));
  if (!Array.isArray(texts) || !texts.every((t) => typeof t === "string")) throw new Error(`${input}: expected a JSON array of strings`);
  await writeFile(output, JSON.stringify(texts.map(mentionedFindings)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}

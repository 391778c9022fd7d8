/**
 * xraygpt-mini training helper: the project's label extractor over a list of texts, so the Python
 * training builds its targets with exactly the labels `npm run eval` will read back.
 *
 *   node server/dist/models/xraygpt-mini/label-texts.js IN.json OUT.json
 *
 * IN is a JSON array of strings; OUT a JSON array, per text, of the observations it mentions (No
 * Finding excluded), in CheXpert order, each with its value: 1 present, -1 uncertain, 0 absent.
 */
import { extractLabels, OBSERVATIONS } from "../../metrics/index.js";
import { runJsonTool } from "./json-tool.js";

export function mentionedFindings(text: string): [string, 1 | 0 | -1][] {
  const labels = extractLabels(text);
  const out: [string, 1 | 0 | -1][] = [];
  for (const o of OBSERVATIONS) {
    const v = labels[o];
    if (o !== "No Finding" && (v === 1 || v === 0 || v === -1)) out.push([o, v]);
  }
  return out;
}

runJsonTool(import.meta.url, "label-texts", (v): v is string[] => Array.isArray(v) && v.every((t) => typeof t === "string"), "a JSON array of strings", (texts) => texts.map(mentionedFindings));

/**
 * xraygpt-mini training helper: each report's typicality, the mean ROUGE-L F against the other
 * training reports with the same labels (eval/label-ceiling.ts, the measure the eval's "most
 * typical report" baseline is chosen by), so the report writer's training can weight by it.
 *
 *   node server/dist/models/xraygpt-mini/typicality-texts.js IN.json OUT.json
 *
 * IN is a JSON array of {key, text} (key: the label set); OUT a JSON array of numbers, in order.
 */
import { typicality, type KeyedText } from "../../eval/label-ceiling.js";
import { runJsonTool } from "./json-tool.js";

const isKeyedTexts = (v: unknown): v is KeyedText[] =>
  Array.isArray(v) && v.every((t) => typeof t === "object" && t !== null && typeof (t as KeyedText).key === "string" && typeof (t as KeyedText).text === "string");

runJsonTool(import.meta.url, "typicality-texts", isKeyedTexts, "a JSON array of {key, text}", (texts) => typicality(texts));

/**
 * Predictions for evaluation from a JSONL file: annotation-log lines (AnnotationRecord; failed
 * ones and review lines are skipped) or simple {"id": ..., "text": ...} lines. The id of a line
 * is its `idField` when given, else its "id", else the file name of its "image" without
 * extensions ("/x/1_IM-0001-4001.dcm.png" → "1_IM-0001-4001"); `idPattern` (a regular
 * expression) then keeps its first capture group (e.g. "^(\d+)_" → "1").
 */
import { readRegularFileSync } from "../util/safe-file.js";
import { basename } from "node:path";
import { isAnnotation, isReview } from "../annotate/record.js";

export interface Prediction {
  id: string;
  text: string;
  /** 1-based line number in the file. */
  line: number;
}

export interface PredictionOptions {
  idField?: string;
  idPattern?: string;
  textField?: string;
}

export interface PredictionSet {
  predictions: Prediction[];
  failed: number;
  reviews: number;
  /** Lines that could not be used, with why (e.g. not JSON: a half-written last line). */
  skipped: { line: number; reason: string }[];
}

export class PredictionError extends Error {
  override name = "PredictionError";
}

function stemOf(path: string): string {
  const name = basename(path);
  const dot = name.indexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

/** What `idPattern` keeps of an id: its first capture group (the whole match without one); undefined when it does not match. */
export function idByPattern(id: string, pattern: RegExp): string | undefined {
  const m = pattern.exec(id);
  return m ? (m[1] ?? m[0]) : undefined;
}

export function readPredictions(file: string, options: PredictionOptions = {}): PredictionSet {
  let text: string;
  try {
    text = readRegularFileSync(file, { what: "predictions file" }).toString("utf8");
  } catch (e) {
    throw new PredictionError((e as Error).message);
  }
  let pattern: RegExp | undefined;
  try {
    pattern = options.idPattern ? new RegExp(options.idPattern) : undefined;
  } catch (e) {
    throw new PredictionError(`--id-pattern: ${(e as Error).message}`);
  }
  const out: PredictionSet = { predictions: [], failed: 0, reviews: 0, skipped: [] };
  const textField = options.textField ?? "text";
  text.split("\n").forEach((raw, k) => {
    const line = k + 1;
    if (raw.trim() === "") return;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      out.skipped.push({ line, reason: "not valid JSON" });
      return;
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return void out.skipped.push({ line, reason: "not a JSON object" });
    if (isReview(obj)) return void out.reviews++;
    if (isAnnotation(obj) && obj.error) return void out.failed++;
    let id: unknown = options.idField ? obj[options.idField] : (obj.id ?? (typeof obj.image === "string" ? stemOf(obj.image) : undefined));
    if (typeof id === "number") id = String(id);
    if (typeof id !== "string" || id === "") {
      return void out.skipped.push({ line, reason: options.idField ? `no "${options.idField}" field` : 'no "id" or "image" field' });
    }
    if (pattern) {
      const kept = idByPattern(id as string, pattern);
      if (kept === undefined) return void out.skipped.push({ line, reason: `id "${id}" does not match --id-pattern` });
      id = kept;
    }
    const t = obj[textField];
    if (typeof t !== "string") return void out.skipped.push({ line, reason: `no "${textField}" text` });
    out.predictions.push({ id: id as string, text: t, line });
  });
  return out;
}

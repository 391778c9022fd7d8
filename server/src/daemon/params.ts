/** Checks a request's params against a small spec, with errors that name the bad field. */
import { EngineError } from "../engine/errors.js";

export type ParamType = "string" | "number" | "boolean" | "object";
export type ParamSpec = Record<string, ParamType | `${ParamType}?`>;

export function checkParams(method: string, params: unknown, spec: ParamSpec): void {
  const required = Object.entries(spec).filter(([, t]) => !t.endsWith("?"));
  if (params === undefined || params === null) {
    if (required.length === 0) return;
    throw new EngineError("InvalidParams", `${method}: params missing (need ${required.map(([k]) => k).join(", ")})`);
  }
  if (typeof params !== "object" || Array.isArray(params)) throw new EngineError("InvalidParams", `${method}: params must be an object`);
  const p = params as Record<string, unknown>;
  for (const [key, t] of Object.entries(spec)) {
    const optional = t.endsWith("?");
    const type = t.replace("?", "");
    const v = p[key];
    if (v === undefined || v === null) {
      if (!optional) throw new EngineError("InvalidParams", `${method}: "${key}" is required`);
      continue;
    }
    const actual = Array.isArray(v) ? "array" : typeof v;
    if (actual !== type) throw new EngineError("InvalidParams", `${method}: "${key}" must be a ${type}, not ${actual}`);
    if (type === "string" && (v as string).length === 0 && !optional) throw new EngineError("InvalidParams", `${method}: "${key}" is empty`);
  }
}

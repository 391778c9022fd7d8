/**
 * How prediction files map to reference ids in "Evaluate Predictions…", when the automatic match
 * (a line's "id", else its image's file name without extensions) finds no reference: presets
 * (IU X-ray image names), a field of each line, or a pattern — the CLI's --pred-id-field and
 * --id-pattern — and the words to offer them with. No VS Code here (tested in client-logic tests).
 */
import { idByPattern } from "xraygpt/evaluate/predictions";

/** The evaluate request's prediction-id options (EvaluateParams.predIdField / idPattern). */
export interface IdMapping {
  predIdField?: string;
  idPattern?: string;
}

export interface IdMappingPreset {
  label: string;
  detail: string;
  mapping: IdMapping;
}

/**
 * IU X-ray (Open-i) image files are `<uid>_IM-<study>-<image>.dcm.png` (projections.csv:
 * `1,1_IM-0001-4001.dcm.png,Frontal`), and reports.csv's `uid` column holds the `<uid>`.
 */
export const IU_XRAY_ID_PATTERN = "^(\\d+)_IM-";

export const ID_MAPPING_PRESETS: readonly IdMappingPreset[] = [
  { label: "IU X-ray image names", detail: "1_IM-0001-4001.dcm.png → reference uid 1", mapping: { idPattern: IU_XRAY_ID_PATTERN } },
  { label: "The number at the start of the file name", detail: "12_frontal.png → 12", mapping: { idPattern: "^(\\d+)" } },
  { label: "File name without extensions", detail: "CXR12.dcm.png → CXR12 (the automatic match)", mapping: {} },
];

/** What a mapping makes of the automatic id (a file name without extensions, or a line's "id"); undefined when it does not apply. */
export function previewId(id: string, mapping: IdMapping): string | undefined {
  if (mapping.predIdField) return undefined; // another field: not known from the id
  if (!mapping.idPattern) return id;
  try {
    return idByPattern(id, new RegExp(mapping.idPattern));
  } catch {
    return undefined;
  }
}

/** Why a typed pattern cannot be used (not a regular expression, or it does not match the example id), or undefined. */
export function patternProblem(pattern: string, exampleId?: string): string | undefined {
  if (!pattern) return "Type a regular expression, e.g. ^(\\d+)_";
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    return `Not a regular expression: ${(e as Error).message}`;
  }
  if (exampleId !== undefined && idByPattern(exampleId, re) === undefined) return `It does not match the first prediction's id "${exampleId}"`;
  return undefined;
}

/** The daemon's "no prediction has a reference" failure, with the first prediction's id; undefined for any other error. */
export function noReferenceMatch(message: string): { predictions: number; firstId?: string } | undefined {
  const m = /none of its (\d+) predictions has a reference/.exec(message);
  if (!m) return undefined;
  const first = /first prediction id "([^"]*)"/.exec(message)?.[1];
  return { predictions: Number(m[1]), ...(first !== undefined ? { firstId: first } : {}) };
}

/** "ids from field "study"", "ids by pattern ^(\d+)_IM-", "the automatic match". */
export function describeMapping(m: IdMapping): string {
  const parts = [m.predIdField ? `ids from the field "${m.predIdField}"` : "", m.idPattern ? `ids by the pattern ${m.idPattern}` : ""].filter(Boolean);
  return parts.length ? parts.join(", ") : "the automatic match";
}

/** A remembered mapping as read back from workspace state (anything else: none). */
export function asIdMapping(x: unknown): IdMapping | undefined {
  if (typeof x !== "object" || x === null) return undefined;
  const r = x as Record<string, unknown>;
  const out: IdMapping = {};
  if (typeof r.predIdField === "string" && r.predIdField) out.predIdField = r.predIdField;
  if (typeof r.idPattern === "string" && r.idPattern) out.idPattern = r.idPattern;
  return out;
}

/**
 * Evaluate's question "how do prediction files map to reference ids?" (QuickPick of presets, a
 * field, a pattern) and its answer, remembered per references file in workspace state.
 */
import * as vscode from "vscode";
import type { Ctx } from "../ctx.js";
import { ID_MAPPING_PRESETS, asIdMapping, describeMapping, noReferenceMatch, patternProblem, previewId, type IdMapping } from "../research/id-mapping.js";

const STATE_KEY = "xraygpt.evaluate.idMappings";

function remembered(ctx: Ctx): Record<string, unknown> {
  const all = ctx.extension.workspaceState.get<unknown>(STATE_KEY);
  return typeof all === "object" && all !== null ? (all as Record<string, unknown>) : {};
}

/** The mapping that worked last time for this references file (none: the automatic match). */
export function rememberedIdMapping(ctx: Ctx, refPath: string): IdMapping {
  return asIdMapping(remembered(ctx)[refPath]) ?? {};
}

export function rememberIdMapping(ctx: Ctx, refPath: string, mapping: IdMapping): Thenable<void> {
  return ctx.extension.workspaceState.update(STATE_KEY, { ...remembered(ctx), [refPath]: mapping });
}

type Choice = vscode.QuickPickItem & { mapping?: IdMapping; ask?: "field" | "pattern" };

/**
 * After a failed evaluation: "not-a-match-error" when `message` is another failure; else the
 * mapping the user picks (undefined when they cancel). `again`: the last pick matched nothing too.
 */
export async function askIdMapping(message: string, tried: IdMapping, again: boolean): Promise<IdMapping | "not-a-match-error" | undefined> {
  const failure = noReferenceMatch(message);
  if (!failure) return "not-a-match-error";
  const example = failure.firstId;
  const shown = (m: IdMapping) => (example !== undefined ? previewId(example, m) : undefined);
  const items: Choice[] = [
    ...ID_MAPPING_PRESETS.map((p) => {
      const id = shown(p.mapping);
      return { label: p.label, detail: p.detail, description: example !== undefined ? (id !== undefined ? `"${example}" → "${id}"` : `does not fit "${example}"`) : "", mapping: p.mapping };
    }),
    { label: "A field of each prediction line…", detail: 'e.g. "study" in {"study": "12", "text": …}', ask: "field" },
    { label: "A pattern…", detail: "a regular expression; its first group is the reference id", ask: "pattern" },
  ];
  const title = again
    ? `XrayGPT: still no match with ${describeMapping(tried)}; how do prediction ids map to reference ids?`
    : `XrayGPT: none of ${failure.predictions} predictions matched a reference id; how do prediction ids map to reference ids?`;
  const placeHolder = example !== undefined ? `First prediction id: "${example}"` : "Choose how prediction ids are read";
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder, matchOnDetail: true, ignoreFocusOut: true });
  if (!pick) return undefined;
  if (pick.mapping) return pick.mapping;
  if (pick.ask === "field") {
    const field = await vscode.window.showInputBox({
      title: "XrayGPT: prediction ids from a field",
      prompt: "The JSON field of each prediction line that holds the reference id",
      placeHolder: "study",
      ignoreFocusOut: true,
      validateInput: (v) => (/^\S+$/.test(v) ? undefined : "Type a field name"),
    });
    return field ? { predIdField: field } : undefined;
  }
  const pattern = await vscode.window.showInputBox({
    title: "XrayGPT: prediction ids by a pattern",
    prompt: `A regular expression over each prediction's id${example !== undefined ? ` (e.g. "${example}")` : ""}; its first group is the reference id`,
    value: tried.idPattern ?? "^(\\d+)_",
    ignoreFocusOut: true,
    validateInput: (v) => patternProblem(v, example) ?? (example !== undefined ? { message: `"${example}" → "${previewId(example, { idPattern: v })}"`, severity: vscode.InputBoxValidationSeverity.Info } : undefined),
  });
  return pattern ? { idPattern: pattern } : undefined;
}

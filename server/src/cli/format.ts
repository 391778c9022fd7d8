/** Plain-text rendering of engine results for the terminal. */
import type { Findings, ModelInfo } from "@xraygpt/protocol";

export function formatFindings(f: Findings): string {
  if (f.source === "text") {
    if (f.labels.length === 0) return "  (the text names no CheXpert observation)";
    return f.labels.map((l) => `  ${l.name.padEnd(28)} ${l.probability === 1 ? "stated" : l.probability === 0 ? "negated" : "uncertain"}`).join("\n");
  }
  if (f.labels.length === 0 && !f.view?.length) return "  (no finding labels: this model conditions on image embeddings)";
  const lines = f.labels.map((l) => `  ${l.name.padEnd(28)} ${l.probability.toFixed(3)}`);
  if (f.view?.length) lines.push(`  view: ${f.view.map((v) => `${v.name} ${v.probability.toFixed(3)}`).join(", ")}`);
  return lines.join("\n");
}

export function formatModels(models: ModelInfo[]): string {
  if (models.length === 0) return "no models installed";
  return models
    .map((m) => `${m.default ? "*" : " "} ${m.id.padEnd(20)} ${m.version.padEnd(8)} ${m.conditioning.padEnd(14)} ${m.available ? m.name : `unavailable: ${m.problem}`}${m.warning ? ` (warning: ${m.warning})` : ""}`)
    .join("\n");
}

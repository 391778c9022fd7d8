/** The whole evaluation of a predictions file against a references CSV (CLI and editor share it). */
import { resolve } from "node:path";
import { readCsvTable } from "./csv.js";
import { EvaluationError, matchPairs, scorePairs, type ReferenceOptions, type ScoreOptions } from "./evaluate.js";
import { readPredictions, type PredictionOptions } from "./predictions.js";
import { buildReport, type EvaluationReport } from "./report.js";

export interface EvaluateFilesOptions {
  predictions: PredictionOptions;
  references: ReferenceOptions;
  scores: ScoreOptions;
}

export function evaluateFiles(predFile: string, refFile: string, options: EvaluateFilesOptions): EvaluationReport {
  const predPath = resolve(predFile);
  const refPath = resolve(refFile);
  const preds = readPredictions(predPath, options.predictions);
  const table = readCsvTable(refPath);
  const match = matchPairs(preds.predictions, table, refPath, options.references);
  if (match.pairs.length === 0) {
    throw new EvaluationError(
      `${predPath}: none of its ${preds.predictions.length} predictions has a reference in ${refPath}` +
        (preds.predictions[0] ? ` (first prediction id "${preds.predictions[0].id}"; see --id-column, --pred-id-field, --id-pattern)` : ""),
    );
  }
  return buildReport(
    {
      predictions: predPath,
      references: refPath,
      reference: {
        idColumn: options.references.idColumn ?? "uid",
        textColumns: options.references.textColumns ?? ["findings", "impression"],
        where: options.references.where ?? {},
      },
    },
    match,
    { failedPredictions: preds.failed, skippedLines: preds.skipped.length },
    scorePairs(match.pairs, options.scores),
  );
}

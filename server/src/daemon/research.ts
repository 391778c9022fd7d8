/**
 * The research workflow over JSON-RPC: `xraygpt/annotate` (batch annotation into a resumable
 * JSONL log, progress as `xraygpt/annotateProgress`, `$/cancelRequest` stops the batch cleanly),
 * `xraygpt/evaluate` (the evaluation report of `xraygpt evaluate`), `xraygpt/review` (a
 * radiologist's final text recorded beside the AI draft) and `xraygpt/exportSr` (a reviewed
 * report as a DICOM Basic Text SR, report/sr-export.ts). Thin adapters over annotateBatch,
 * evaluateFiles and appendReview: the logic lives there. Every path a request names (images,
 * the folder or list, the log, the evaluation inputs and outputs) goes through the path guard
 * with the engine's allowed roots (`--allow-root`), like the images the engine decodes.
 */
import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Connection } from "vscode-languageserver/node.js";
import {
  AnnotateProgressNotification,
  AnnotateRequest,
  EvaluateRequest,
  ExportSrRequest,
  ReviewRequest,
  type AnnotateParams,
  type AnnotateResult,
  type EvaluateParams,
  type EvaluationReport,
  type ExportSrParams,
  type ReviewParams,
  type ReviewResult,
} from "@xraygpt/protocol";
import type { Engine } from "../engine/types.js";
import { EngineError } from "../engine/errors.js";
import { annotateBatch } from "../annotate/annotate.js";
import { listImages } from "../annotate/images.js";
import { appendReview } from "../annotate/review.js";
import { evaluateFiles } from "../evaluate/run.js";
import { formatMarkdown } from "../evaluate/report.js";
import { abortSignal, makeHandler, type Log } from "./rpc-handler.js";
import { PathGuard } from "../util/path-guard.js";
import { writeBasicTextSr } from "./report/sr-export.js";

/** Errors about the user's files or arguments (they name the file and the cause): InvalidParams on the wire. */
const INPUT_ERRORS = new Set(["AnnotateError", "ImageListError", "LockError", "JournalError", "ReviewError", "EvaluationError", "PredictionError", "CsvError", "FileError"]);

async function asInputError<T>(f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof Error && INPUT_ERRORS.has(e.name)) throw new EngineError("InvalidParams", e.message);
    throw e;
  }
}

function stringArray(method: string, key: string, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x.length === 0)) throw new EngineError("InvalidParams", `${method}: "${key}" must be an array of non-empty strings`);
  return v as string[];
}

function annotateImages(p: AnnotateParams, guard: PathGuard): string[] {
  const images = stringArray("annotate", "images", p.images);
  if ((images === undefined) === (p.folder === undefined || p.folder === null)) throw new EngineError("InvalidParams", 'annotate: give exactly one of "images" and "folder"');
  if (images) {
    if (images.length === 0) throw new EngineError("InvalidParams", 'annotate: "images" is empty');
    return images.map((i) => resolve(i));
  }
  return listImages(guard.check(p.folder!), guard.roots);
}

function checkConcurrency(c: number | undefined): void {
  if (c !== undefined && (!Number.isInteger(c) || c < 1 || c > 64)) throw new EngineError("InvalidParams", `annotate: "concurrency" must be an integer from 1 to 64 (got ${c})`);
}

/** Writes OUT.json and OUT.md beside each other; refuses when either exists (nothing is replaced). */
function writeEvaluation(out: string, report: EvaluationReport & Parameters<typeof formatMarkdown>[0], guard: PathGuard): void {
  const files = [guard.check(`${out}.json`), guard.check(`${out}.md`)];
  const taken = files.filter((f) => existsSync(f));
  if (taken.length > 0) throw new EngineError("InvalidParams", `evaluate: ${taken.join(" and ")} already exist(s); choose another "out"`);
  writeFileSync(files[0]!, JSON.stringify(report, null, 2) + "\n", { flag: "wx" });
  writeFileSync(files[1]!, formatMarkdown(report), { flag: "wx" });
}

/** `client` names the connection (the engine's queue takes turns between clients); its requests are cancelled when `ended` aborts. */
export function registerResearchRequests(connection: Connection, engine: Engine, log: Log, client?: { id: string; ended: AbortSignal }): void {
  const handle = makeHandler(log, client?.ended);
  const guard = new PathGuard(engine.allowedRoots);

  connection.onRequest(
    AnnotateRequest,
    handle(
      "annotate",
      { jobId: "string", folder: "string?", out: "string", model: "string?", prompt: "string?", concurrency: "number?", generation: "object?", retryFailed: "boolean?" },
      async (p: AnnotateParams, token): Promise<AnnotateResult> => {
        checkConcurrency(p.concurrency);
        const images = await asInputError(() => annotateImages(p, guard));
        const s = await asInputError(() =>
          annotateBatch({
            engine,
            images,
            out: resolve(p.out),
            model: p.model,
            prompt: p.prompt,
            generation: p.generation,
            concurrency: p.concurrency,
            retryFailed: p.retryFailed,
            allowedRoots: engine.allowedRoots,
            signal: abortSignal(token),
            ...(client ? { client: client.id } : {}),
            warn: (m) => log(`annotate: ${m}`),
            onProgress: (pr) =>
              void connection
                .sendNotification(AnnotateProgressNotification, {
                  jobId: p.jobId,
                  done: pr.done,
                  total: pr.total,
                  failed: pr.failed,
                  skipped: pr.skipped,
                  ...(pr.etaMs !== undefined ? { etaMs: pr.etaMs } : {}),
                  ...(pr.record ? { current: pr.record.image } : {}),
                })
                .catch(() => undefined),
          }),
        );
        return { jobId: p.jobId, out: s.out, total: s.total, annotated: s.annotated, failed: s.failed, skipped: s.skipped, cancelled: s.cancelled, model: s.model };
      },
    ),
  );

  connection.onRequest(
    EvaluateRequest,
    handle("evaluate", { pred: "string", ref: "string", idColumn: "string?", predIdField: "string?", idPattern: "string?", where: "object?", out: "string?" }, async (p: EvaluateParams): Promise<EvaluationReport> => {
      const textColumns = stringArray("evaluate", "textColumns", p.textColumns);
      if (textColumns?.length === 0) throw new EngineError("InvalidParams", 'evaluate: "textColumns" is empty');
      if (p.where && Object.values(p.where).some((v) => typeof v !== "string")) throw new EngineError("InvalidParams", 'evaluate: "where" values must be strings');
      const report = await asInputError(() =>
        evaluateFiles(guard.check(p.pred), guard.check(p.ref), { predictions: { idField: p.predIdField, idPattern: p.idPattern }, references: { idColumn: p.idColumn, textColumns, where: p.where }, scores: {} }),
      );
      if (p.out) writeEvaluation(resolve(p.out), report, guard);
      return report;
    }),
  );

  connection.onRequest(
    ReviewRequest,
    handle("review", { log: "string", image: "string", final: "string", draft: "string?", reviewer: "string?" }, async (p: ReviewParams): Promise<ReviewResult> => {
      const r = await asInputError(() => appendReview(resolve(p.log), { image: p.image, final: p.final, draft: p.draft, reviewer: p.reviewer, allowedRoots: engine.allowedRoots, warn: (m) => log(`review: ${m}`) }));
      const { schema: _schema, ...rest } = r;
      return rest;
    }),
  );

  connection.onRequest(
    ExportSrRequest,
    handle("exportSr", { image: "string", out: "string", includePatientModule: "boolean?" }, async (p: ExportSrParams) => {
      if (!Array.isArray(p.sections) || p.sections.some((s) => !s || typeof s.name !== "string" || typeof s.text !== "string")) throw new EngineError("InvalidParams", 'exportSr: "sections" must be an array of { name, text }');
      return writeBasicTextSr({ ...p, image: guard.check(p.image), out: guard.check(p.out) });
    }),
  );
}

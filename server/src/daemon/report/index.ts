/**
 * Report documents (`*.report.md`) as served by the daemon: diagnostics, quick fixes, drafting
 * code actions and finding hovers. The daemon calls registerReportFeatures once per connection
 * and merges the capabilities it returns into its initialize result.
 */
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import {
  CodeActionKind,
  DiagnosticSeverity,
  type CodeAction,
  type Connection,
  type Diagnostic,
  type ServerCapabilities,
  type TextDocuments,
} from "vscode-languageserver";
import type { TextDocument } from "vscode-languageserver-textdocument";
import type { FindingsResult } from "@xraygpt/protocol";
import type { Engine } from "../../engine/types.js";
import { analyzeReport, type ReportProblem, type Severity } from "./report-analysis.js";
import { DRAFT_SECTION_COMMAND, RECORD_REVIEW_COMMAND, draftActions, findingHover } from "./report-actions.js";
import { parseReport } from "./report-format.js";
import { isReportPath, resolveImageField } from "./report-paths.js";

export { DRAFT_SECTION_COMMAND, RECORD_REVIEW_COMMAND } from "./report-actions.js";

export const reportCapabilities: ServerCapabilities = {
  hoverProvider: true,
  codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite] },
};

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

interface ImageState {
  path?: string;
  exists: boolean;
  findings?: FindingsResult;
}

export interface ReportFeatureOptions {
  /** Milliseconds to wait after an edit before recomputing diagnostics (default 300). */
  debounceMs?: number;
  log?(line: string): void;
}

export function registerReportFeatures(
  connection: Connection,
  documents: TextDocuments<TextDocument>,
  engine: Engine,
  options: ReportFeatureOptions = {},
): ServerCapabilities {
  const log = options.log ?? ((l: string) => connection.console.log(l));
  const findingsCache = new Map<string, { mtimeMs: number; result: Promise<FindingsResult | undefined> }>();
  const timers = new Map<string, NodeJS.Timeout>();

  const isReport = (doc: TextDocument) => doc.uri.startsWith("file:") && isReportPath(fileURLToPath(doc.uri));

  async function imageState(doc: TextDocument): Promise<ImageState> {
    const fields = parseReport(doc.getText()).frontMatter?.fields;
    const field = fields?.get("image")?.value;
    if (!field) return { exists: false };
    // The findings of the model that drafted the report (its front matter), else the default's.
    const model = fields?.get("model")?.value || undefined;
    const path = resolveImageField(fileURLToPath(doc.uri), field);
    let mtimeMs: number;
    try {
      const s = await stat(path);
      if (!s.isFile()) return { path, exists: false };
      mtimeMs = s.mtimeMs;
    } catch {
      return { path, exists: false };
    }
    const key = `${model ?? ""}\n${path}`;
    let cached = findingsCache.get(key);
    if (!cached || cached.mtimeMs !== mtimeMs) {
      const result = engine
        .findings({ image: path, ...(model ? { model } : {}) })
        .catch((e: unknown) => {
          if (!model) throw e;
          log(`report: model ${model} of the report gives no findings (${e instanceof Error ? e.message : String(e)}); using the default model`);
          return engine.findings({ image: path });
        })
        .catch((e: unknown) => {
          log(`report: no findings for ${path}: ${e instanceof Error ? e.message : String(e)}`);
          return undefined;
        });
      cached = { mtimeMs, result };
      findingsCache.set(key, cached);
    }
    const findings = await cached.result;
    return { path, exists: true, ...(findings ? { findings } : {}) };
  }

  async function problemsOf(doc: TextDocument): Promise<{ problems: ReportProblem[]; state: ImageState }> {
    const state = await imageState(doc);
    const text = doc.getText();
    const hasField = Boolean(parseReport(text).frontMatter?.fields.get("image")?.value);
    const problems = analyzeReport({
      text,
      image: !hasField ? "none" : state.exists ? "ok" : "missing",
      ...(state.findings ? { findings: state.findings.findings, model: `${state.findings.model.id}@${state.findings.model.version}` } : {}),
    });
    return { problems, state };
  }

  function toDiagnostic(doc: TextDocument, p: ReportProblem): Diagnostic {
    return {
      range: { start: doc.positionAt(p.start), end: doc.positionAt(p.end) },
      severity: SEVERITY[p.severity],
      code: p.code,
      source: "xraygpt",
      message: p.message,
    };
  }

  async function validate(doc: TextDocument): Promise<void> {
    const version = doc.version;
    const { problems } = await problemsOf(doc);
    const current = documents.get(doc.uri);
    if (!current || current.version !== version) return;
    await connection.sendDiagnostics({ uri: doc.uri, version, diagnostics: problems.map((p) => toDiagnostic(doc, p)) });
  }

  function schedule(doc: TextDocument): void {
    if (!isReport(doc)) return;
    clearTimeout(timers.get(doc.uri));
    timers.set(
      doc.uri,
      setTimeout(() => {
        timers.delete(doc.uri);
        validate(doc).catch((e: unknown) => log(`report: diagnostics failed: ${e instanceof Error ? e.message : String(e)}`));
      }, options.debounceMs ?? 300),
    );
  }

  const subs = [
    documents.onDidOpen((e) => schedule(e.document)),
    documents.onDidChangeContent((e) => schedule(e.document)),
    documents.onDidClose((e) => {
      clearTimeout(timers.get(e.document.uri));
      if (isReport(e.document)) void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    }),
  ];

  connection.onCodeAction(async (params) => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc || !isReport(doc)) return [];
    const { problems, state } = await problemsOf(doc);
    const from = doc.offsetAt(params.range.start);
    const to = doc.offsetAt(params.range.end);
    const actions: CodeAction[] = [];
    const annotationLog = Boolean(parseReport(doc.getText()).frontMatter?.fields.get("annotationLog")?.value);
    for (const p of problems) {
      if (p.end < from || p.start > to) continue;
      if (p.command) {
        actions.push({ title: p.command.title, kind: CodeActionKind.QuickFix, diagnostics: [toDiagnostic(doc, p)], isPreferred: true, command: { title: p.command.title, command: p.command.command, arguments: [doc.uri] } });
      }
      if (!p.fix) continue;
      actions.push({
        title: p.fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [toDiagnostic(doc, p)],
        isPreferred: true,
        edit: { changes: { [doc.uri]: [{ range: { start: doc.positionAt(p.fix.edit.start), end: doc.positionAt(p.fix.edit.end) }, newText: p.fix.edit.text }] } },
        // Marking reviewed also records the final text beside the AI draft in the annotation log.
        ...(p.code === "unreviewed-draft" && annotationLog ? { command: { title: "Record review", command: RECORD_REVIEW_COMMAND, arguments: [doc.uri] } } : {}),
      });
    }
    for (const a of draftActions(doc.getText(), state.exists)) {
      actions.push({ title: a.title, kind: CodeActionKind.RefactorRewrite, command: { title: a.title, command: DRAFT_SECTION_COMMAND, arguments: [doc.uri, a.section] } });
    }
    return actions;
  });

  connection.onHover(async (params) => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc || !isReport(doc)) return null;
    const offset = doc.offsetAt(params.position);
    const text = doc.getText();
    const { state } = await problemsOf(doc).catch(() => ({ state: { exists: false } as ImageState }));
    const f = state.findings;
    const h = findingHover(text, offset, f?.findings, f ? `${f.model.id}@${f.model.version}` : undefined);
    if (!h) return null;
    return { contents: { kind: "markdown", value: h.markdown }, range: { start: doc.positionAt(h.start), end: doc.positionAt(h.end) } };
  });

  connection.onShutdown(() => {
    for (const t of timers.values()) clearTimeout(t);
    for (const s of subs) s.dispose();
  });
  return reportCapabilities;
}

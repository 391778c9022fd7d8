/**
 * Report-document language features (diagnostics, code actions, hover) served by the daemon.
 * Implemented in ./report/ when present; this seam keeps the daemon wiring in one place.
 */
import type { Connection, ServerCapabilities, TextDocuments } from "vscode-languageserver/node.js";
import type { TextDocument } from "vscode-languageserver-textdocument";
import type { Engine } from "../engine/types.js";

export function registerReportFeatures(_connection: Connection, _documents: TextDocuments<TextDocument>, _engine: Engine): ServerCapabilities {
  return {};
}

/** Report-document language features (diagnostics, code actions, hover) live in ./report/. */
export { registerReportFeatures } from "./report/index.js";

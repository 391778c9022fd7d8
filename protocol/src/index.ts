/**
 * The xraygpt protocol: every custom request and notification the daemon (server/) answers and
 * the editor extension (client/) sends, declared once with its payload types.
 *
 * Transport: JSON-RPC 2.0 with the LSP base protocol (Content-Length framing), over stdio or a
 * local socket (`xraygpt serve --socket PATH`). Standard LSP methods (initialize, text document
 * sync, code actions, hover, diagnostics, `$/cancelRequest`) are used as in LSP.
 *
 * Streaming: long requests (summarize, chat, annotate) carry a client-chosen `jobId`; the daemon
 * sends `xraygpt/progress` and `xraygpt/token` notifications tagged with that id while the
 * request is pending, and the request's result carries the full text at the end. A cancelled
 * request resolves normally with `stopReason: "cancelled"` and the text generated so far.
 */
import { NotificationType, RequestType } from "vscode-jsonrpc";

export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Shared payload types

/** Sampling settings; anything left out comes from the model manifest's defaults. */
export interface GenerationSettings {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  repeatPenalty?: number;
  seed?: number;
  /** Consensus decoding: candidates generated (1 = one streamed generation), and their sampling temperature. */
  candidates?: number;
  candidateTemperature?: number;
  /**
   * Consensus decoding: of the candidates, this many (the last ones) are evidence, sampled at
   * evidenceTemperature (default 1): what the others are scored against, and the answer only
   * when none of the others does as well on the findings checks. 0 (the default): every
   * candidate is scored against all the others.
   */
  evidenceCandidates?: number;
  evidenceTemperature?: number;
  /** Consensus decoding: the fraction of candidates that must finish before the rest are cut (0 < q ≤ 1). */
  candidateQuorum?: number;
}

/** Where the device for a stage ended up. */
export type Device = "cpu" | "cuda" | "vulkan" | "metal";

export interface LabelProbability {
  name: string;
  probability: number;
}

/** What the vision stage said about an image. */
export interface Findings {
  /** Finding labels (CheXpert-style observation names) with the model's probabilities. */
  labels: LabelProbability[];
  /** Projection (e.g. "frontal" / "lateral") when the model has a view head. */
  view?: LabelProbability[];
  /** The findings line given to the LLM (findings-text conditioning). */
  conditioningText?: string;
  /**
   * Where the labels come from: the model's vision classifier (absent: the same), or "text": read
   * from the generated text by the project's label extractor (a multimodal model without a
   * classifier; probability 1 stated, 0.5 uncertain, 0 negated).
   */
  source?: "classifier" | "text";
}

export type ImageFormat = "dicom" | "png" | "jpeg" | "webp" | "tiff" | "other";

/** Metadata of a decoded image. Never contains patient-identifying DICOM tags. */
export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
  /** Bits per sample of the stored pixels (8, 12, 16 ...). */
  bitsStored: number;
  frames: number;
  modality?: string;
  /** DICOM ViewPosition (PA, AP, LL ...) when present. */
  view?: string;
  laterality?: string;
  /** DICOM BodyPartExamined (CHEST ...) when it is one of the standard terms. */
  bodyPart?: string;
  photometric?: string;
  transferSyntax?: string;
}

export interface Timings {
  decodeMs: number;
  visionMs: number;
  promptMs: number;
  generateMs: number;
  totalMs: number;
  /** Tokens of the answer. */
  tokens: number;
  /** Generation speed over every token generated (all candidates, with consensus decoding). */
  tokensPerSecond: number;
  /** Candidates generated (consensus decoding; 1 otherwise). */
  candidates: number;
  /** Prompt length in tokens, and how many of them came from the cache (earlier chat turns). */
  promptTokens: number;
  cachedPromptTokens: number;
  queuedMs: number;
}

export type StopReason = "eos" | "stop" | "maxTokens" | "cancelled";

export interface ModelRef {
  id: string;
  version: string;
  /** SHA-256 of the manifest file's bytes. */
  manifestHash: string;
}

// ---------------------------------------------------------------------------------------------
// Requests

export interface SummarizeParams {
  jobId: string;
  /** Absolute path of a PNG/JPEG/WebP/TIFF/DICOM file. */
  image: string;
  model?: string;
  /** Instruction given to the model; the manifest's default prompt when absent. */
  prompt?: string;
  generation?: GenerationSettings;
}

export interface SummarizeResult {
  jobId: string;
  model: ModelRef;
  image: ImageInfo;
  findings: Findings;
  prompt: string;
  generation: Required<GenerationSettings>;
  text: string;
  stopReason: StopReason;
  timings: Timings;
}
export const SummarizeRequest = new RequestType<SummarizeParams, SummarizeResult, void>("xraygpt/summarize");

export interface ChatParams {
  jobId: string;
  /** Omit to start a new session bound to `image`. */
  sessionId?: string;
  image: string;
  message: string;
  model?: string;
  generation?: GenerationSettings;
  /**
   * A new session only: earlier turns, oldest first, put into the prompt as they are (not
   * generated again) before `message` — how a stateless client (the OpenAI API) continues a chat.
   */
  history?: { message: string; answer: string }[];
}

export interface ChatResult {
  jobId: string;
  sessionId: string;
  model: ModelRef;
  findings: Findings;
  text: string;
  stopReason: StopReason;
  timings: Timings;
}
export const ChatRequest = new RequestType<ChatParams, ChatResult, void>("xraygpt/chat");

export interface ChatEndParams {
  sessionId: string;
}
export const ChatEndRequest = new RequestType<ChatEndParams, { ended: boolean }, void>("xraygpt/chatEnd");

/**
 * Where the classifier looked for one finding (occlusion sensitivity). The model's input
 * (inputWidth × inputHeight, the image resized to it) is cut into cols × rows cells of `cell`
 * input pixels (the last column/row may be cut short); `values` (row-major) is, per cell, the
 * mean drop in the finding's probability when a patch covering it was hidden.
 */
export interface Heatmap {
  finding: string;
  /** The finding's probability on the whole image. */
  probability: number;
  cols: number;
  rows: number;
  cell: number;
  inputWidth: number;
  inputHeight: number;
  values: number[];
  min: number;
  max: number;
}

export interface FindingsParams {
  image: string;
  model?: string;
  /** Also compute saliency maps (`heatmaps`): of every finding, or of `heatmapFinding` only. */
  heatmap?: boolean;
  heatmapFinding?: string;
}
export interface FindingsResult {
  model: ModelRef;
  image: ImageInfo;
  findings: Findings;
  /** With `heatmap`: one map per finding asked for. */
  heatmaps?: Heatmap[];
  timings: Pick<Timings, "decodeMs" | "visionMs" | "totalMs"> & { heatmapMs?: number };
}
export const FindingsRequest = new RequestType<FindingsParams, FindingsResult, void>("xraygpt/findings");

export interface DecodeImageParams {
  image: string;
  /** Longest side of the returned pixels; the image is downscaled (area) when larger. */
  maxSize?: number;
  /** Include patient-identifying DICOM tags in `tags` (the user opted in). */
  includePatientTags?: boolean;
}
export interface DicomTag {
  tag: string;
  name: string;
  value: string;
  patientIdentifying: boolean;
}
export interface DecodeImageResult {
  info: ImageInfo;
  width: number;
  height: number;
  /** Base64 of little-endian uint16 grey values, 0..65535, after modality LUT and inversion. */
  pixels: string;
  /** Default window in the 0..65535 pixel scale (from the DICOM VOI LUT, else full range). */
  window: { center: number; width: number };
  /**
   * DICOM: the modality values (e.g. HU) that pixel 0 and 65535 stand for, before MONOCHROME1
   * inversion, so the viewer shows windows in them. Other formats have none: their scale spans
   * the stored range 0..2^bitsStored−1.
   */
  range?: { min: number; max: number };
  tags: DicomTag[];
}
export const DecodeImageRequest = new RequestType<DecodeImageParams, DecodeImageResult, void>("xraygpt/decodeImage");

export interface ModelInfo {
  id: string;
  name: string;
  version: string;
  description?: string;
  license: string;
  conditioning: "findings-text" | "soft-tokens" | "multimodal";
  manifestPath: string;
  manifestHash: string;
  /** True when its files are present and the manifest is valid. */
  available: boolean;
  /** Why it is not available. */
  problem?: string;
  /** Available, but worth saying (e.g. it shadows the bundled model of the same id). */
  warning?: string;
  loaded: boolean;
  default: boolean;
  /** A model served elsewhere: its endpoints and the requests each takes at once (the manifest's `backend`). */
  remote?: { baseUrls: string[]; maxConcurrency: number };
  /** A local model: the model processes it runs in (each one generation at a time). */
  replicas?: number;
}
export const ModelsRequest = new RequestType<Record<string, never> | undefined, { models: ModelInfo[] }, void>("xraygpt/models");

export interface ModelIdParams {
  model: string;
}
export const LoadModelRequest = new RequestType<ModelIdParams, ModelInfo, void>("xraygpt/models/load");
export const UnloadModelRequest = new RequestType<ModelIdParams, ModelInfo, void>("xraygpt/models/unload");

export type Health = "ok" | "warning" | "error";

/** One endpoint of a model served elsewhere (a manifest's `backend.baseUrls`), as this daemon sees it. */
export interface RemoteEndpointHealth {
  url: string;
  /** False after a failed request, until one succeeds again. */
  up: boolean;
  /** Requests now in flight to it. */
  inFlight: number;
  /** Failed requests in a row. */
  failures: number;
  /** When down: ms until it is tried again. */
  retryInMs?: number;
  /** When down: why (HTTP status, connection error, timeout). */
  lastError?: string;
}

export interface ServerStatus {
  version: string;
  protocolVersion: number;
  health: Health;
  message?: string;
  /** Nothing running and nothing queued. */
  quiescent: boolean;
  defaultModel?: string;
  loadedModels: string[];
  device: { vision: Device | "none"; llm: Device | "remote" | "none"; detail?: string };
  queue: { running: number; queued: number };
  pid: number;
  /** Resident models served elsewhere, with the health of each endpoint. */
  remote?: { model: string; endpoints: RemoteEndpointHealth[] }[];
}
export const StatusRequest = new RequestType<Record<string, never> | undefined, ServerStatus, void>("xraygpt/status");

// ---------------------------------------------------------------------------------------------
// Notifications (server → client)

export interface TokenParams {
  jobId: string;
  /** Text appended since the previous token notification of this job. */
  text: string;
  /** Running count of generated tokens. */
  index: number;
  /**
   * Set while consensus decoding is still running: this text belongs to the provisional draft
   * (the greedy candidate, streamed as it is generated while the other candidates fill in). A
   * client shows it styled as provisional; it is superseded by a later `replace` notification.
   */
  provisional?: boolean;
  /**
   * The job's text so far (every earlier token notification, provisional or not) is replaced by
   * `text`: the chosen answer once consensus decoding has picked it. Later notifications append.
   */
  replace?: boolean;
}
export const TokenNotification = new NotificationType<TokenParams>("xraygpt/token");

export type JobStage = "queued" | "decode" | "vision" | "loading" | "prompt" | "generate" | "done";
export interface ProgressParams {
  jobId: string;
  stage: JobStage;
  /** Place in the queue when stage is "queued" (0 = next). */
  position?: number;
  findings?: Findings;
  message?: string;
  /** Consensus decoding: how many of the candidates have finished (stage "generate"). */
  candidates?: { done: number; total: number };
}
export const ProgressNotification = new NotificationType<ProgressParams>("xraygpt/progress");

export const ServerStatusNotification = new NotificationType<ServerStatus>("xraygpt/serverStatus");

// ---------------------------------------------------------------------------------------------
// Errors: JSON-RPC error codes in `ResponseError.code`, `data` holds `{ kind, file? }`.

export const ErrorCodes = {
  /** The image could not be read or decoded; message names the file and the cause. */
  BadImage: -32010,
  /** The path is outside the allowed roots. */
  PathNotAllowed: -32011,
  /** The model id is unknown, its files are missing, or its manifest is invalid. */
  ModelUnavailable: -32012,
  /** The model process died while serving the request. */
  ModelCrashed: -32013,
  /** A chat session id is unknown (expired or never existed). */
  UnknownSession: -32014,
  /** Bad request parameters. */
  InvalidParams: -32602,
  /** The request was cancelled before it started. */
  RequestCancelled: -32800,
  /** A bug in the daemon; the message says what failed. */
  Internal: -32603,
} as const;
export type ErrorKind = keyof typeof ErrorCodes;

export interface ErrorData {
  kind: ErrorKind;
  file?: string;
}

// ---------------------------------------------------------------------------------------------
// Research workflow (issue "Research annotation workflow"): batch annotation into a resumable
// JSONL log, evaluation against reference reports, and the human review loop.

export interface AnnotateParams {
  jobId: string;
  /** Absolute image paths; give either `images` or `folder`. */
  images?: string[];
  /** A folder (searched recursively for images) or a list file (one path per line). */
  folder?: string;
  /** The annotation log (JSONL): created when absent, appended to (resumed) otherwise. */
  out: string;
  model?: string;
  prompt?: string;
  /** Images in flight at once (default 2; a model served elsewhere: its maxConcurrency × endpoints). The log's order does not depend on it. */
  concurrency?: number;
  generation?: GenerationSettings;
  /** Run again the images whose earlier attempts all failed. */
  retryFailed?: boolean;
}

export interface AnnotateResult {
  jobId: string;
  out: string;
  total: number;
  annotated: number;
  failed: number;
  /** Already in the log. */
  skipped: number;
  /** Not finished because the request was cancelled; a re-run does them. */
  cancelled: number;
  model: ModelRef;
}
/** Resolves with counts; `$/cancelRequest` stops the batch cleanly (result has `cancelled` > 0). */
export const AnnotateRequest = new RequestType<AnnotateParams, AnnotateResult, void>("xraygpt/annotate");

export interface AnnotateProgressParams {
  jobId: string;
  /** Images finished this run (annotated + failed + skipped). */
  done: number;
  total: number;
  failed: number;
  skipped: number;
  /** Estimated milliseconds left; absent until one image has been annotated. */
  etaMs?: number;
  /** The image just finished. */
  current?: string;
}
export const AnnotateProgressNotification = new NotificationType<AnnotateProgressParams>("xraygpt/annotateProgress");

export interface EvaluateParams {
  /** Predictions, JSON lines (an annotation log, or lines {"id", "text"}). */
  pred: string;
  /** Reference reports, CSV with a header row. */
  ref: string;
  /** Reference id column (default "uid"). */
  idColumn?: string;
  /** Take prediction ids from this field of each line (CLI --pred-id-field). */
  predIdField?: string;
  /** Keep the first capture group of each prediction id, a regular expression (CLI --id-pattern). */
  idPattern?: string;
  /** Reference text columns, joined (default ["findings", "impression"]). */
  textColumns?: string[];
  /** Only reference rows where column = value. */
  where?: Record<string, string>;
  /** Also write OUT.json and OUT.md (never replacing existing files). */
  out?: string;
}

export interface EvaluationInterval {
  low: number;
  high: number;
}
export interface EvaluationMetric {
  name: string;
  value: number | null;
  ci95: EvaluationInterval | null;
}
export interface EvaluationLabelScore {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number;
  tp: number;
  fp: number;
  fn: number;
}
/** The report of `xraygpt evaluate` (the same object as its JSON output). */
export interface EvaluationReport {
  tool: "xraygpt evaluate";
  createdAt: string;
  predictions: string;
  references: string;
  reference: { idColumn: string; textColumns: string[]; where: Record<string, string> };
  counts: {
    pairs: number;
    unmatchedPredictions: number;
    referencesWithoutPrediction: number;
    emptyReferences: number;
    failedPredictions: number;
    skippedLines: number;
  };
  scores: {
    n: number;
    metrics: EvaluationMetric[];
    labels: {
      perLabel: Record<string, EvaluationLabelScore>;
      micro: { precision: number | null; recall: number | null; f1: number | null };
      macro: { precision: number | null; recall: number | null; f1: number | null };
      uncertain: "positive" | "negative";
      n: number;
    };
    options: { stem: boolean; uncertain: "positive" | "negative"; bootstrap: number; seed: number };
  };
}
export const EvaluateRequest = new RequestType<EvaluateParams, EvaluationReport, void>("xraygpt/evaluate");

export interface ReviewParams {
  /** The annotation log to append to. */
  log: string;
  image: string;
  /** The radiologist's final text. */
  final: string;
  /** The AI draft; the latest annotation of the image in the log when absent. */
  draft?: string;
  reviewer?: string;
}
export interface ReviewResult {
  type: "review";
  image: string;
  sha256: string;
  model?: ModelRef;
  draft: string;
  final: string;
  /** Word-level edit distance between draft and final. */
  editDistance: { distance: number; normalized: number; wordsA: number; wordsB: number };
  reviewer?: string;
  reviewedAt: string;
}
export const ReviewRequest = new RequestType<ReviewParams, ReviewResult, void>("xraygpt/review");

// ---------------------------------------------------------------------------------------------
// Report export: a reviewed report as a DICOM Basic Text SR in the source image's study.

export interface ExportSrParams {
  /** The source image: a DICOM file (a PNG/JPEG source gets no SR: InvalidParams). */
  image: string;
  /** The SR file to write; an existing file is never replaced. */
  out: string;
  /** The report's sections in order (Examination, Indication, Comparison, Findings, Impression); empty ones are left out. */
  sections: { name: string; text: string }[];
  /**
   * Copy the source's patient module (name, ID, issuer, birth date, sex) and its study's date,
   * time, accession number, study ID and referring physician into the SR, for import into the
   * same archive. Default: those attributes are present but empty (type 2).
   */
  includePatientModule?: boolean;
}
export interface ExportSrResult {
  out: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  /** The source image's SOP Instance UID, referenced by the SR. */
  referencedSopInstanceUid: string;
  patientModuleCopied: boolean;
}
export const ExportSrRequest = new RequestType<ExportSrParams, ExportSrResult, void>("xraygpt/exportSr");

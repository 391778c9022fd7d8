/**
 * The annotation log: one JSON object per line (JSONL), append-only. Two kinds of lines:
 * "annotation" (one image run through a model, or the error it failed with) and "review"
 * (a radiologist's final text beside the AI draft, with their word-level edit distance).
 */
import type { Findings, GenerationSettings, ImageInfo, ModelRef, StopReason, Timings } from "@xraygpt/protocol";
import type { EditDistanceResult } from "../metrics/edit-distance.js";

export const LOG_SCHEMA = 1 as const;

export interface AnnotationRecord {
  type: "annotation";
  schema: typeof LOG_SCHEMA;
  /** Absolute path of the image when it was annotated. */
  image: string;
  /** SHA-256 (hex) of the image file's bytes; "" when the file could not be read (then the path is the resume key). */
  sha256: string;
  model: ModelRef;
  /** The prompt asked for (--prompt), null for the model's default prompt. Part of the resume key. */
  promptRequested: string | null;
  /** The prompt the model was given (the default's text when promptRequested is null); absent on early errors. */
  prompt?: string;
  /** Generation settings in effect (requested ones when the run failed early). */
  generation: GenerationSettings;
  imageInfo?: ImageInfo;
  findings?: Findings;
  text?: string;
  stopReason?: StopReason;
  timings?: Timings;
  /** Wall time from starting this image to its record, including hashing and queueing. */
  wallMs: number;
  error?: { message: string; kind?: string };
  startedAt: string;
  finishedAt: string;
}

export interface ReviewRecord {
  type: "review";
  schema: typeof LOG_SCHEMA;
  image: string;
  sha256: string;
  model?: ModelRef;
  draft: string;
  final: string;
  editDistance: EditDistanceResult;
  reviewer?: string;
  reviewedAt: string;
}

export type LogRecord = AnnotationRecord | ReviewRecord;

/** What makes two annotations "the same job": image bytes, model manifest, requested prompt. */
export function resumeKey(sha256: string, manifestHash: string, promptRequested: string | null): string {
  return JSON.stringify([sha256, manifestHash, promptRequested]);
}

export function isAnnotation(r: unknown): r is AnnotationRecord {
  return typeof r === "object" && r !== null && (r as AnnotationRecord).type === "annotation" && typeof (r as AnnotationRecord).sha256 === "string";
}

export function isReview(r: unknown): r is ReviewRecord {
  return typeof r === "object" && r !== null && (r as ReviewRecord).type === "review";
}

/**
 * The human review loop: records the radiologist's final text beside the AI draft in the
 * annotation log, with the word-level edit distance between them (metrics/edit-distance).
 * The draft defaults to the text of the latest successful annotation of the same image bytes.
 * Takes the log's lock, so it is refused while a batch is writing the same log. Only an xraygpt
 * log (or a new file) is appended to, and a review that fails changes nothing: the log is read
 * without repair first, and opened for appending only once the record is ready.
 */
import { resolve } from "node:path";
import { PathGuard } from "../util/path-guard.js";
import { editDistance } from "../metrics/edit-distance.js";
import { tokenizeRouge } from "../metrics/tokenize.js";
import { sha256File } from "./hash.js";
import { Journal, type JournalState } from "./journal.js";
import { acquireLock } from "./lock.js";
import { isAnnotation, LOG_SCHEMA, type AnnotationRecord, type ReviewRecord } from "./record.js";

export interface ReviewInput {
  image: string;
  final: string;
  /** The AI draft; the latest annotation of this image in the log when absent. */
  draft?: string;
  reviewer?: string;
  /** The log and the image must lie in these folders (util/path-guard.ts); unrestricted when absent. */
  allowedRoots?: readonly string[];
  warn?(message: string): void;
}

export class ReviewError extends Error {
  override name = "ReviewError";
}

/** Appends a review record (fsynced) and returns it. Edit distance is over lowercase alphanumeric words. */
export async function appendReview(logPath: string, input: ReviewInput): Promise<ReviewRecord> {
  const guard = new PathGuard(input.allowedRoots);
  guard.check(logPath);
  const image = resolve(input.image);
  guard.check(image);
  const sha256 = await sha256File(image).catch((e: Error) => {
    throw new ReviewError(e.message);
  });
  const lock = acquireLock(logPath);
  try {
    const state = Journal.read(logPath);
    const record = reviewRecord(state.records, logPath, image, sha256, input);
    const journal = Journal.open(logPath, input.warn);
    try {
      journal.append(record);
      return record;
    } finally {
      journal.close();
    }
  } finally {
    lock.release();
  }
}

function reviewRecord(records: JournalState["records"], logPath: string, image: string, sha256: string, input: ReviewInput): ReviewRecord {
  const annotations = records.filter((r): r is AnnotationRecord => isAnnotation(r) && r.sha256 === sha256 && !r.error && typeof r.text === "string");
  const latest = annotations[annotations.length - 1];
  const draft = input.draft ?? latest?.text;
  if (draft === undefined) throw new ReviewError(`${logPath}: no annotation of ${image} to review (pass the draft text explicitly)`);
  const record: ReviewRecord = {
    type: "review",
    schema: LOG_SCHEMA,
    image,
    sha256,
    ...(latest ? { model: latest.model } : {}),
    draft,
    final: input.final,
    editDistance: editDistance(draft, input.final, (t) => tokenizeRouge(t)),
    ...(input.reviewer ? { reviewer: input.reviewer } : {}),
    reviewedAt: new Date().toISOString(),
  };
  return record;
}

/**
 * Routes the daemon's `xraygpt/token` and `xraygpt/progress` notifications to the job that asked,
 * by jobId. A job's listeners are removed when it ends.
 */
import { randomUUID } from "node:crypto";
import type { ProgressParams, TokenParams } from "@xraygpt/protocol";

export interface JobListener {
  /** `p` carries `provisional` / `replace` (consensus decoding) besides the text. */
  onToken?(text: string, index: number, p: TokenParams): void;
  onProgress?(p: ProgressParams): void;
}

export class JobRouter {
  private readonly jobs = new Map<string, JobListener>();

  /** A fresh job id and a function that ends the job. */
  start(listener: JobListener): { jobId: string; end(): void } {
    const jobId = randomUUID();
    this.jobs.set(jobId, listener);
    return { jobId, end: () => void this.jobs.delete(jobId) };
  }

  token(p: TokenParams): void {
    this.jobs.get(p.jobId)?.onToken?.(p.text, p.index, p);
  }

  progress(p: ProgressParams): void {
    this.jobs.get(p.jobId)?.onProgress?.(p);
  }

  get size(): number {
    return this.jobs.size;
  }
}

import { resolve } from "node:path";
import type { GenerationSettings } from "@xraygpt/protocol";
import { parseArgs, UsageError, type CliCommand } from "../command.js";
import { ENGINE_FLAGS, ENGINE_HELP, engineFromFlags, GENERATION_FLAGS, GENERATION_HELP, generationFromFlags } from "../engine-flags.js";
import { annotateBatch } from "../../annotate/annotate.js";
import { listImages } from "../../annotate/images.js";

/** How one image's text is generated, in words (from the settings its record carries). */
function consensusPlan(g: GenerationSettings): string {
  const n = g.candidates ?? 1;
  if (n <= 1) return "one streamed generation per image";
  const q = g.candidateQuorum ?? 1;
  const cut = q < 1 ? `; once ${Math.ceil(q * n)} have finished the rest are cut (--quorum ${q})` : "";
  return `${n} candidates per image in one batched generation (--candidates)${cut}`;
}

const seconds = (ms: number | undefined) => (ms === undefined ? "?" : ms < 60_000 ? `${Math.round(ms / 1000)}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`);

export const command: CliCommand = {
  name: "annotate",
  summary: "summarize a folder or list of radiographs into a resumable JSONL log",
  help: `Usage: xraygpt annotate DIR|LIST --out FILE.jsonl [options]

Runs every image of DIR (searched recursively: .png .jpg .jpeg .webp .tif .tiff .dcm .dicom)
or of LIST (a text file, one path per line) through the model and appends one JSON line per
image to FILE.jsonl: image path, SHA-256, model id/version/manifest hash, prompt, generation
settings, vision findings, summary text, timings, or the error the image failed with.

Every line is fsynced. Re-running the same command after an interruption (even kill -9)
skips the images already in the log (same SHA-256, model manifest and --prompt) and finishes
the batch. A half-written last line is repaired (kept in FILE.jsonl.corrupt when incomplete).
A second process on the same FILE.jsonl is refused (FILE.jsonl.lock).

Options:
  --out FILE           the log (created when absent, appended to otherwise)
  --prompt TEXT        instruction for the model (default: the model's own)
  --concurrency N      images in flight (default 2; for a model served elsewhere, its
                       backend.maxConcurrency × its endpoints): vision of the next images
                       overlaps generation of the current one, and a remote model's requests
                       spread over its baseUrls (least loaded first; one that fails is retried
                       later and its work goes to the others). The log's order is the same at
                       any concurrency.
  --retry-failed       run again the images whose earlier attempts all failed
  --quiet              no per-image lines, only the summary
  --verbose            also print how the work runs in parallel: images in flight, CPU
                       threads per model, candidates per image in one batch and their quorum
${GENERATION_HELP}
${ENGINE_HELP}`,
  async run(args, io) {
    const { flags, positionals } = parseArgs(args, { strings: [...ENGINE_FLAGS, ...GENERATION_FLAGS, "prompt", "out", "concurrency"], booleans: ["retry-failed", "quiet", "verbose"] });
    if (flags.help) return io.stdout(this.help + "\n"), 0;
    if (positionals.length !== 1) throw new UsageError("annotate needs exactly one DIR or LIST");
    if (typeof flags.out !== "string") throw new UsageError("annotate needs --out FILE.jsonl");
    const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)) throw new UsageError(`--concurrency needs an integer from 1 to 64 (got ${String(flags.concurrency)})`);
    const out = resolve(flags.out);
    // Batch work: as many model processes as the cores hold, unless --replicas says otherwise.
    const engine = engineFromFlags(flags, undefined, [], { replicas: "auto" });
    let images: string[];
    try {
      images = listImages(positionals[0]!, engine.allowedRoots);
    } catch (e) {
      await engine.dispose();
      throw e;
    }
    let told = false;
    const ac = new AbortController();
    const onSigint = () => {
      if (!ac.signal.aborted) io.stderr("\ninterrupting: finishing the log; run the same command again to continue\n");
      ac.abort();
    };
    process.once("SIGINT", onSigint);
    try {
      const summary = await annotateBatch({
        engine,
        images,
        out,
        model: flags.model as string | undefined,
        prompt: flags.prompt as string | undefined,
        generation: generationFromFlags(flags),
        concurrency,
        retryFailed: flags["retry-failed"] === true,
        allowedRoots: engine.allowedRoots,
        signal: ac.signal,
        warn: (m) => io.stderr(`warning: ${m}\n`),
        onStart: (plan) => {
          if (flags.verbose) io.stderr(`parallelism: ${plan.concurrency} image(s) in flight (--concurrency), ${plan.replicas} model process(es) (--replicas), ${engine.threads} CPU thread(s) each (--threads)\n`);
        },
        onProgress: (p) => {
          const r = p.record;
          if (flags.verbose && r?.generation && !told) {
            told = true;
            io.stderr(`parallelism: ${consensusPlan(r.generation)}\n`);
          }
          if (flags.quiet || !r) return;
          const what = r.error ? `FAILED ${r.error.message}` : `ok ${Math.round(r.wallMs)} ms`;
          io.stderr(`[${p.done}/${p.total}] ${r.image}: ${what} · ETA ${seconds(p.etaMs)}\n`);
        },
      });
      io.stdout(
        `${summary.out}: ${summary.annotated} annotated, ${summary.failed} failed, ${summary.skipped} already done` +
          (summary.cancelled ? `, ${summary.cancelled} left (interrupted)` : "") +
          ` of ${summary.total} images · model ${summary.model.id} ${summary.model.version}\n`,
      );
      if (summary.cancelled) return 130;
      return summary.failed > 0 ? 1 : 0;
    } finally {
      process.off("SIGINT", onSigint);
      await engine.dispose();
    }
  },
};

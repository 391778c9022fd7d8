import { resolve } from "node:path";
import { parseArgs, UsageError, type CliCommand } from "../command.js";
import { ENGINE_FLAGS, ENGINE_HELP, engineFromFlags, GENERATION_FLAGS, GENERATION_HELP, generationFromFlags } from "../engine-flags.js";
import { formatFindings } from "../format.js";
import { answerOnly, type OnToken } from "../../engine/tokens.js";
import type { ProgressParams } from "@xraygpt/protocol";

/**
 * On a terminal, consensus decoding's provisional draft and candidate count as one status line on
 * stderr, cleared when the answer arrives; stdout gets only the answer.
 */
export function draftStatusLine(write: (text: string) => void, columns: number): { onToken: OnToken; onProgress(p: Omit<ProgressParams, "jobId">): void } {
  let draft = "";
  let counts = "";
  let shown = false;
  const show = () => {
    const head = `… ${counts}draft: `;
    const room = Math.max(10, columns - head.length - 1);
    const tail = draft.replace(/\s+/g, " ").trim();
    write(`\r\x1b[2K\x1b[2m${head}${tail.length > room ? "…" + tail.slice(-(room - 1)) : tail}\x1b[0m`);
    shown = true;
  };
  const clear = () => {
    if (shown) write("\r\x1b[2K");
    shown = false;
  };
  return {
    onToken: (text, _index, flags) => {
      if (flags?.provisional) (draft += text), show();
      else clear();
    },
    onProgress: (p) => {
      if (p.candidates && p.candidates.done < p.candidates.total) (counts = `${p.candidates.done}/${p.candidates.total} candidates · `), show();
    },
  };
}

export const command: CliCommand = {
  name: "summarize",
  summary: "summarize a radiograph (findings + impression), streamed",
  help: `Usage: xraygpt summarize IMAGE [options]

Decodes IMAGE (PNG, JPEG, WebP, TIFF or DICOM), runs the vision model, and streams the
language model's summary to stdout.

Options:
  --prompt TEXT       instruction for the model (default: the model's own)
  --json              print one JSON object (the full result) instead of text
  --quiet             print only the summary text
${GENERATION_HELP}
${ENGINE_HELP}`,
  async run(args, io) {
    const { flags, positionals } = parseArgs(args, { strings: [...ENGINE_FLAGS, ...GENERATION_FLAGS, "prompt"], booleans: ["json", "quiet"] });
    if (flags.help) return io.stdout(this.help + "\n"), 0;
    if (positionals.length !== 1) throw new UsageError("summarize needs exactly one IMAGE");
    const engine = engineFromFlags(flags);
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once("SIGINT", onSigint);
    try {
      const stream = !flags.json;
      const status = stream && !flags.quiet && process.stderr.isTTY ? draftStatusLine((t) => io.stderr(t), process.stderr.columns ?? 80) : undefined;
      const answer = answerOnly((t) => stream && io.stdout(t));
      const result = await engine.summarize(
        { image: resolve(positionals[0]!), model: flags.model as string | undefined, prompt: flags.prompt as string | undefined, generation: generationFromFlags(flags) },
        {
          signal: ac.signal,
          onProgress: (p) => {
            // A model without a classifier (multimodal): its findings are read from its text, after it.
            if (p.stage === "vision" && p.findings && p.findings.source !== "text" && stream && !flags.quiet) io.stdout(`Vision findings:\n${formatFindings(p.findings)}\n\n`);
            status?.onProgress(p);
          },
          onToken: (t, index, tokenFlags) => {
            status?.onToken(t, index, tokenFlags);
            answer(t, index, tokenFlags);
          },
        },
      );
      if (flags.json) io.stdout(JSON.stringify(result, null, 2) + "\n");
      else {
        io.stdout("\n");
        if (result.findings.source === "text" && !flags.quiet) io.stdout(`\nFindings read from the model's text:\n${formatFindings(result.findings)}\n`);
        if (result.stopReason === "cancelled") io.stderr("(interrupted)\n");
        if (!flags.quiet) io.stderr(`[${result.model.id} ${result.model.version} · ${result.timings.tokens} tokens${result.timings.candidates > 1 ? ` (consensus of ${result.timings.candidates})` : ""} · ${result.timings.tokensPerSecond.toFixed(1)} tok/s · ${result.timings.totalMs.toFixed(0)} ms]\n`);
      }
      return result.stopReason === "cancelled" ? 130 : 0;
    } finally {
      process.off("SIGINT", onSigint);
      await engine.dispose();
    }
  },
};

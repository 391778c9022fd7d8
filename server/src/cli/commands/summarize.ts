import { resolve } from "node:path";
import { parseArgs, UsageError, type CliCommand } from "../command.js";
import { ENGINE_FLAGS, ENGINE_HELP, engineFromFlags, GENERATION_FLAGS, GENERATION_HELP, generationFromFlags } from "../engine-flags.js";
import { formatFindings } from "../format.js";

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
      const result = await engine.summarize(
        { image: resolve(positionals[0]!), model: flags.model as string | undefined, prompt: flags.prompt as string | undefined, generation: generationFromFlags(flags) },
        {
          signal: ac.signal,
          onProgress: (p) => {
            // A model without a classifier (multimodal): its findings are read from its text, after it.
            if (p.stage === "vision" && p.findings && p.findings.source !== "text" && stream && !flags.quiet) io.stdout(`Vision findings:\n${formatFindings(p.findings)}\n\n`);
          },
          onToken: (t) => stream && io.stdout(t),
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

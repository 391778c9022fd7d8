import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs, UsageError, type CliCommand } from "../command.js";
import { ENGINE_FLAGS, ENGINE_HELP, engineFromFlags, GENERATION_FLAGS, GENERATION_HELP, generationFromFlags } from "../engine-flags.js";
import { formatFindings } from "../format.js";
import { answerOnly } from "../../engine/tokens.js";

export const command: CliCommand = {
  name: "chat",
  summary: "ask questions about a radiograph, one per line (multi-turn)",
  help: `Usage: xraygpt chat IMAGE [options]

Reads questions from stdin, one per line, and streams each answer. The conversation keeps
its context across turns. End with Ctrl-D (or an empty line when stdin is not a terminal).

Options:
${GENERATION_HELP}
${ENGINE_HELP}`,
  async run(args, io) {
    const { flags, positionals } = parseArgs(args, { strings: [...ENGINE_FLAGS, ...GENERATION_FLAGS] });
    if (flags.help) return io.stdout(this.help + "\n"), 0;
    if (positionals.length !== 1) throw new UsageError("chat needs exactly one IMAGE");
    const image = resolve(positionals[0]!);
    const engine = engineFromFlags(flags);
    const rl = createInterface({ input: process.stdin, terminal: false });
    const tty = process.stdin.isTTY;
    let sessionId: string | undefined;
    try {
      if (tty) io.stdout("> ");
      for await (const line of rl) {
        const message = line.trim();
        if (!message) {
          if (tty) io.stdout("> ");
          continue;
        }
        const r = await engine.chat(
          { image, sessionId, message, model: flags.model as string | undefined, generation: generationFromFlags(flags) },
          {
            onProgress: (p) => p.stage === "vision" && p.findings && io.stderr(`Vision findings:\n${formatFindings(p.findings)}\n`),
            onToken: answerOnly((t) => io.stdout(t)),
          },
        );
        sessionId = r.sessionId;
        io.stdout(tty ? "\n> " : "\n");
      }
      return 0;
    } finally {
      rl.close();
      await engine.dispose();
    }
  },
};

import { resolve } from "node:path";
import { parseArgs, UsageError, type CliCommand } from "../command.js";
import { ENGINE_FLAGS, ENGINE_HELP, engineFromFlags } from "../engine-flags.js";
import { formatFindings } from "../format.js";

export const command: CliCommand = {
  name: "findings",
  summary: "print the vision model's label probabilities for a radiograph",
  help: `Usage: xraygpt findings IMAGE [options]

Options:
  --json              print the full result as JSON
${ENGINE_HELP}`,
  async run(args, io) {
    const { flags, positionals } = parseArgs(args, { strings: ENGINE_FLAGS, booleans: ["json"] });
    if (flags.help) return io.stdout(this.help + "\n"), 0;
    if (positionals.length !== 1) throw new UsageError("findings needs exactly one IMAGE");
    const engine = engineFromFlags(flags);
    try {
      const r = await engine.findings({ image: resolve(positionals[0]!), model: flags.model as string | undefined });
      io.stdout(flags.json ? JSON.stringify(r, null, 2) + "\n" : `${formatFindings(r.findings)}\n${r.findings.conditioningText ?? ""}\n`);
      return 0;
    } finally {
      await engine.dispose();
    }
  },
};

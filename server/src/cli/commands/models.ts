import { parseArgs, type CliCommand } from "../command.js";
import { ENGINE_FLAGS, ENGINE_HELP, engineFromFlags } from "../engine-flags.js";
import { formatModels } from "../format.js";

export const command: CliCommand = {
  name: "models",
  summary: "list installed models (* = default)",
  help: `Usage: xraygpt models [options]

Options:
  --json              print the list as JSON
${ENGINE_HELP}`,
  async run(args, io) {
    const { flags } = parseArgs(args, { strings: ENGINE_FLAGS, booleans: ["json"] });
    if (flags.help) return io.stdout(this.help + "\n"), 0;
    const engine = engineFromFlags(flags);
    try {
      const models = await engine.listModels();
      io.stdout((flags.json ? JSON.stringify(models, null, 2) : formatModels(models)) + "\n");
      return 0;
    } finally {
      await engine.dispose();
    }
  },
};

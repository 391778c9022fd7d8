import { resolve } from "node:path";
import { parseArgs, UsageError, type CliCommand } from "../command.js";
import { ENGINE_FLAGS, ENGINE_HELP, engineFromFlags } from "../engine-flags.js";
import { formatFindings } from "../format.js";
import { writeHeatmapPng } from "../heatmap-png.js";

export const command: CliCommand = {
  name: "findings",
  summary: "print the vision model's label probabilities for a radiograph",
  help: `Usage: xraygpt findings IMAGE [options]

Options:
  --json              print the full result as JSON (with --heatmap: the raw maps too)
  --heatmap OUT.png   also write where the model looked (occlusion saliency) over the image
  --finding NAME      the finding to map (default: the most probable one)
${ENGINE_HELP}`,
  async run(args, io) {
    const { flags, positionals } = parseArgs(args, { strings: [...ENGINE_FLAGS, "heatmap", "finding"], booleans: ["json"] });
    if (flags.help) return io.stdout(this.help + "\n"), 0;
    if (positionals.length !== 1) throw new UsageError("findings needs exactly one IMAGE");
    const out = flags.heatmap as string | undefined;
    if (flags.finding !== undefined && out === undefined && !flags.json) throw new UsageError("--finding needs --heatmap OUT.png or --json");
    const engine = engineFromFlags(flags);
    try {
      const image = resolve(positionals[0]!);
      const finding = flags.finding as string | undefined;
      const heatmap = out !== undefined || finding !== undefined;
      const r = await engine.findings({ image, model: flags.model as string | undefined, ...(heatmap ? { heatmap: true } : {}), ...(finding ? { heatmapFinding: finding } : {}) });
      if (out !== undefined && r.heatmaps?.length) {
        const top = finding ?? [...r.findings.labels].sort((a, b) => b.probability - a.probability)[0]!.name;
        const map = r.heatmaps.find((h) => h.finding === top)!;
        await writeHeatmapPng(resolve(out), await engine.decode({ image, maxSize: 1024 }), map);
      }
      io.stdout(flags.json ? JSON.stringify(r, null, 2) + "\n" : `${formatFindings(r.findings)}\n${r.findings.conditioningText ?? ""}\n${out ? `heatmap: ${out} (${r.timings.heatmapMs} ms)\n` : ""}`);
      return 0;
    } finally {
      await engine.dispose();
    }
  },
};

import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { parseArgs, UsageError, type CliCommand } from "../command.js";
import { evaluateFiles } from "../../evaluate/run.js";
import { formatMarkdown, formatText } from "../../evaluate/report.js";
import { requireWritableTarget } from "../../util/safe-file.js";

function writeNew(path: string, text: string, force: boolean): void {
  requireWritableTarget(path, "report file");
  let fd: number;
  try {
    fd = openSync(path, force ? "w" : "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new UsageError(`${path} already exists (choose another --out, or --force to replace it)`);
    throw e;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

function intFlag(flags: Record<string, string | boolean>, name: string, min: number): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} needs an integer ≥ ${min} (got ${String(v)})`);
  return n;
}

export const command: CliCommand = {
  name: "evaluate",
  summary: "score predictions (JSONL) against reference reports (CSV): ROUGE, BLEU, CheXpert label F1",
  help: `Usage: xraygpt evaluate --pred FILE.jsonl --ref REFS.csv [options]

Matches each prediction to its reference report by id and prints, per metric, the value and a
95% bootstrap interval (fixed seed): ROUGE-1/2/L (mean F, rouge-score semantics), corpus
BLEU-1..4 (NLTK corpus_bleu), and CheXpert label precision/recall/F1 (micro, macro, per label)
from the rule-based label extractor applied to both texts.

Predictions: annotation logs from \`xraygpt annotate\` (failed images and review lines are
skipped; the id is the image file name without extensions) or lines {"id": ..., "text": ...}.

Options:
  --pred FILE          predictions, JSON lines
  --ref FILE           reference reports, CSV with a header row
  --id-column NAME     reference id column (default: uid)
  --text-columns A,B   reference text columns, joined (default: findings,impression)
  --where COL=VALUE    only reference rows where COL is VALUE (e.g. split=val); repeatable with commas
  --pred-id-field F    take prediction ids from field F
  --id-pattern REGEX   keep the first capture group of each prediction id (e.g. '^(\\d+)_')
  --pred-text-field F  prediction text field (default: text)
  --stem               Porter-stem tokens for ROUGE (rouge-score use_stemmer=True)
  --uncertain MODE     uncertain labels count as positive (default) or negative
  --bootstrap N        bootstrap resamples (default 1000; 0 = no intervals)
  --seed N             bootstrap seed (default 12345)
  --out PREFIX         also write PREFIX.md and PREFIX.json (never replaces files unless --force)
  --force              replace existing PREFIX.md / PREFIX.json
  --json               print the JSON report instead of the table`,
  async run(args, io) {
    const { flags, positionals } = parseArgs(args, {
      strings: ["pred", "ref", "id-column", "text-columns", "where", "pred-id-field", "id-pattern", "pred-text-field", "uncertain", "bootstrap", "seed", "out"],
      booleans: ["stem", "force", "json"],
    });
    if (flags.help) return io.stdout(this.help + "\n"), 0;
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (typeof flags.pred !== "string" || typeof flags.ref !== "string") throw new UsageError("evaluate needs --pred FILE.jsonl and --ref REFS.csv");
    const uncertain = (flags.uncertain as string | undefined) ?? "positive";
    if (uncertain !== "positive" && uncertain !== "negative") throw new UsageError(`--uncertain must be positive or negative (got ${uncertain})`);
    const where: Record<string, string> = {};
    if (typeof flags.where === "string") {
      for (const part of flags.where.split(",")) {
        const eq = part.indexOf("=");
        if (eq <= 0) throw new UsageError(`--where needs COL=VALUE (got "${part}")`);
        where[part.slice(0, eq)] = part.slice(eq + 1);
      }
    }
    const textColumns = typeof flags["text-columns"] === "string" ? flags["text-columns"].split(",").map((c) => c.trim()).filter(Boolean) : undefined;
    if (textColumns && textColumns.length === 0) throw new UsageError("--text-columns needs at least one column");
    const report = evaluateFiles(flags.pred, flags.ref, {
      predictions: {
        idField: flags["pred-id-field"] as string | undefined,
        idPattern: flags["id-pattern"] as string | undefined,
        textField: flags["pred-text-field"] as string | undefined,
      },
      references: { idColumn: flags["id-column"] as string | undefined, textColumns, where },
      scores: { stem: flags.stem === true, uncertain, bootstrap: intFlag(flags, "bootstrap", 0), seed: intFlag(flags, "seed", 0) },
    });
    const json = JSON.stringify(report, null, 2) + "\n";
    if (typeof flags.out === "string") {
      const taken = [`${flags.out}.json`, `${flags.out}.md`].filter((p) => existsSync(p));
      if (taken.length > 0 && flags.force !== true) throw new UsageError(`${taken.join(" and ")} already exist(s) (choose another --out, or --force to replace)`);
      writeNew(`${flags.out}.json`, json, flags.force === true);
      writeNew(`${flags.out}.md`, formatMarkdown(report), flags.force === true);
    }
    io.stdout(flags.json ? json : formatText(report));
    if (typeof flags.out === "string" && !flags.json) io.stdout(`wrote ${flags.out}.md and ${flags.out}.json\n`);
    return 0;
  },
};

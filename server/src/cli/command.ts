/** One CLI subcommand: `xraygpt <name> ...`. Each lives in cli/commands/<name>.ts. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface CliCommand {
  name: string;
  /** One line for `xraygpt --help`. */
  summary: string;
  /** Full help text for `xraygpt <name> --help`. */
  help: string;
  /** Returns the process exit code. */
  run(args: string[], io: CliIO): Promise<number>;
}

export class UsageError extends Error {
  override name = "UsageError";
}

/** A tiny flag parser: `--flag value`, `--flag=value`, boolean `--flag`, positionals. */
export function parseArgs(args: string[], spec: { strings?: string[]; booleans?: string[] }): { flags: Record<string, string | boolean>; positionals: string[] } {
  const flags: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  const strings = new Set(spec.strings ?? []);
  const booleans = new Set([...(spec.booleans ?? []), "help"]);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-h") {
      flags.help = true;
      continue;
    }
    if (!a.startsWith("--")) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (booleans.has(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
    } else if (strings.has(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    } else throw new UsageError(`unknown option --${name}`);
  }
  return { flags, positionals };
}

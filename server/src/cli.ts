#!/usr/bin/env node
/** `xraygpt`: the command line over the same engine as the daemon. Parsing and dispatch only. */
import "./util/no-telemetry.js"; // first: before anything loads onnxruntime-node
import { describeError } from "./engine/errors.js";
import { VERSION } from "./engine/engine.js";
import { UsageError, type CliCommand, type CliIO } from "./cli/command.js";
import { commands } from "./cli/commands/index.js";

const io: CliIO = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Usage: xraygpt <command> [options]   (xraygpt <command> --help for details)

Commands:
${commands.map((c: CliCommand) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}
`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") return io.stdout(usage()), name ? 0 : 2;
  if (name === "--version") return io.stdout(`${VERSION}\n`), 0;
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) return io.stderr(`xraygpt: unknown command "${name}"\n\n${usage()}`), 2;
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) return io.stderr(`xraygpt ${name}: ${e.message}\n(see xraygpt ${name} --help)\n`), 2;
    io.stderr(`xraygpt ${name}: ${describeError(e).message}\n`);
    return 1;
  }
}

// Pipes and files are written synchronously on Linux, so exiting here loses no output; it also
// ends any model process a failed command left behind.
process.exit(await main(process.argv.slice(2)));

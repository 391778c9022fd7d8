// Prints the README's quick-start commands, one per line, as a newcomer would type them: the first
// ```sh block under "## Quick start", comments stripped. A line whose comment says "the main job"
// is prefixed "main<TAB>", every other one "cmd<TAB>". `.ci/run` runs them, so CI follows the README.
// Usage: node scripts/readme-quickstart.mjs [README.md]
import { readFileSync } from "node:fs";

export function quickStart(markdown) {
  const section = markdown.split(/^## /m).find((s) => /^Quick start\b/.test(s));
  if (!section) throw new Error('README has no "## Quick start" section');
  const block = /```(?:sh|bash|console)\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("the Quick start section has no ```sh block");
  const commands = [];
  for (const raw of block[1].split("\n")) {
    const hash = raw.search(/\s#\s|^#/);
    const command = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (!command) continue;
    commands.push({ command, main: hash >= 0 && /the main job/i.test(raw.slice(hash)) });
  }
  if (!commands.some((c) => c.main)) throw new Error('no quick-start command is marked "# the main job"');
  return commands;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? new URL("../README.md", import.meta.url);
  for (const c of quickStart(readFileSync(file, "utf8"))) process.stdout.write(`${c.main ? "main" : "cmd"}\t${c.command}\n`);
}

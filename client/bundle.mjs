// Bundles the extension (client/src/extension.ts and what it imports, the protocol and the
// shared report format included) into one CommonJS file, client/dist/extension.js, with
// `vscode` external, and copies the webview files (../media) to client/dist/media.
import { build } from "esbuild";
import { cpSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
await build({
  entryPoints: [`${here}src/extension.ts`],
  outfile: `${here}dist/extension.js`,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node18",
  external: ["vscode"],
  sourcemap: true,
  logLevel: "warning",
});
rmSync(`${here}dist/media`, { recursive: true, force: true });
cpSync(`${here}../media`, `${here}dist/media`, { recursive: true });

// Stages the daemon for a platform VSIX into client/daemon/: the built server (no tests, no
// fixtures), the protocol, the soft-token addon, the bundled model xraygpt-mini, and the production
// dependencies the server needs, copied from the installed node_modules with only this platform's
// native parts (onnxruntime-node's linux/x64 binaries, node-llama-cpp's CPU binaries, sharp's
// libvips). The layout mirrors the checkout (server/, protocol/, native/, models/, node_modules/),
// so every path the server computes from its own location holds inside the extension too.
//
// Usage: node client/scripts/stage-daemon.mjs [--target linux-x64]
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUT = join(ROOT, "client", "daemon");
const argTarget = process.argv.indexOf("--target");
const target = argTarget > 0 ? process.argv[argTarget + 1] : `${process.platform}-${process.arch}`;
const [platform, arch] = target.split("-");
if (target !== `${process.platform}-${process.arch}`) {
  // The installed node_modules hold this machine's native parts only (npm installs the optional
  // platform packages that match it), and the addon is built here.
  console.error(`stage-daemon: can only stage for this machine (${process.platform}-${process.arch}), not ${target}; run it on a ${target} machine`);
  process.exit(2);
}

/** Whether a built file belongs in the daemon (JavaScript only: no tests, maps or declarations). */
const SKIP_DIRS = new Set(["testing", "bench", "eval"]);
function runtimeFile(src) {
  const rel = relative(ROOT, src);
  if (rel.split(sep).some((part) => SKIP_DIRS.has(part))) return false;
  if (statSync(src).isDirectory()) return true;
  return /\.(js|cjs|mjs|json)$/.test(src) && !/\.test\.js$/.test(src);
}

function copyTree(src, dest, filter = () => true) {
  cpSync(src, dest, { recursive: true, dereference: true, filter });
}

/** Package folders that must not travel: other platforms' binaries, sources, docs. */
function packageFilter(name) {
  return (src) => {
    const rel = src.split(`${sep}node_modules${sep}${name}`).pop() ?? "";
    if (/(^|\/)node_modules$/.test(src)) return false; // nested deps are staged on their own
    if (name === "onnxruntime-node") {
      const m = /^\/bin\/napi-v\d+\/([^/]+)(?:\/([^/]+))?/.exec(rel);
      if (m && (m[1] !== platform || (m[2] && m[2] !== arch))) return false;
    }
    if (name === "node-llama-cpp") {
      // Only the prebuilt binaries are used at run time; llama.cpp's sources (the git bundle) stay out.
      if (/^\/llama\/gitRelease\.bundle$/.test(rel) || /^\/llama\/llama\.cpp(\/|$)/.test(rel)) return false;
    }
    if (/\.(md|markdown|map|ts|cts|mts)$/i.test(rel)) return false; // docs, source maps, sources and declarations
    return true;
  };
}

/** The folder of `name` as Node would resolve it from `fromDir`. */
function findPackage(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const p = join(dir, "node_modules", name);
    if (existsSync(join(p, "package.json"))) return p;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Whether an optional dependency is for this platform (the others are skipped, even if present). */
function optionalWanted(name) {
  if (name.startsWith("@node-llama-cpp/")) return name === `@node-llama-cpp/${target}`; // CPU build only: CUDA/Vulkan stay out
  if (name.startsWith("@img/")) return name.includes(`${platform}-${arch}`) && !name.includes("musl");
  return true;
}

const staged = new Map(); // package dir in node_modules → name
function stagePackage(name, fromDir, optional) {
  if (name.startsWith("@xraygpt/")) return; // staged from the workspace below
  if (optional && !optionalWanted(name)) return;
  const dir = findPackage(name, fromDir);
  if (!dir) {
    if (optional) return;
    throw new Error(`stage-daemon: ${name} (needed from ${relative(ROOT, fromDir) || "."}) is not installed; run npm ci`);
  }
  if (staged.has(dir)) return;
  staged.set(dir, name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  copyTree(dir, join(OUT, relative(ROOT, dir)), packageFilter(name));
  for (const dep of Object.keys(pkg.dependencies ?? {})) stagePackage(dep, dir, false);
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) stagePackage(dep, dir, true);
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

// The workspace packages, built.
const server = JSON.parse(readFileSync(join(ROOT, "server", "package.json"), "utf8"));
if (!existsSync(join(ROOT, "server", "dist", "cli.js"))) throw new Error("stage-daemon: server/dist/cli.js is missing; run npm run build");
copyTree(join(ROOT, "server", "dist"), join(OUT, "server", "dist"), runtimeFile);
copyTree(join(ROOT, "server", "bin"), join(OUT, "server", "bin"));
writeFileSync(join(OUT, "server", "package.json"), JSON.stringify({ name: server.name, version: server.version, type: "module", bin: server.bin }, null, 2));
copyTree(join(ROOT, "protocol", "dist"), join(OUT, "node_modules", "@xraygpt", "protocol", "dist"), runtimeFile);
cpSync(join(ROOT, "protocol", "package.json"), join(OUT, "node_modules", "@xraygpt", "protocol", "package.json"));
// The addon: at native/ (its runpath reaches node_modules/@node-llama-cpp/<platform> from there),
// and a package in node_modules that points at it.
// The multimodal module (libmtmd) too, when it built: its runpath reaches the same libraries.
const nativeFiles = ["package.json", "index.cjs", "scripts/llama-paths.cjs", "build/Release/llama_embed.node", "build-failure.txt", "mtmd/build/Release/llama_mtmd.node", "mtmd/build-failure.txt"];
for (const f of nativeFiles) {
  const src = join(ROOT, "native", f);
  if (!existsSync(src)) continue;
  mkdirSync(dirname(join(OUT, "native", f)), { recursive: true });
  cpSync(src, join(OUT, "native", f));
}
const shim = join(OUT, "node_modules", "@xraygpt", "llama-embed");
mkdirSync(shim, { recursive: true });
writeFileSync(join(shim, "package.json"), JSON.stringify({ name: "@xraygpt/llama-embed", private: true, main: "index.cjs" }, null, 2));
writeFileSync(join(shim, "index.cjs"), 'module.exports = require("../../../native/index.cjs");\n');
for (const dep of Object.keys(server.dependencies)) stagePackage(dep, join(ROOT, "server"), false);
for (const dep of Object.keys(JSON.parse(readFileSync(join(ROOT, "protocol", "package.json"), "utf8")).dependencies ?? {})) stagePackage(dep, join(ROOT, "protocol"), false);
stagePackage("node-llama-cpp", join(ROOT, "native"), false);
// The bundled model.
const model = join(ROOT, "models", "xraygpt-mini");
copyTree(model, join(OUT, "models", "xraygpt-mini"), (src) => !relative(model, src).startsWith("train") && !relative(model, src).startsWith("parity"));

function size(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? size(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}
console.log(`stage-daemon: ${target}: ${staged.size} packages, ${(size(OUT) / 1e6).toFixed(1)} MB in ${relative(ROOT, OUT)}/`);

// `npm ci` / `npm install` hook: builds the addon with node-gyp and the machine's C++ compiler:
// llama_embed.node (soft tokens), then llama_mtmd.node (llama.cpp's multimodal library, compiled
// from the sources node-llama-cpp bundles). It never fails the install: on any problem it writes a
// one-line reason to build-failure.txt (soft-token addon) or mtmd/build-failure.txt (multimodal
// module), read by the server, which then runs without those models, and exits 0.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const paths = require("./llama-paths.cjs");
const { addonPath, reasonPath, mtmdAddonPath, mtmdReasonPath } = require("../index.cjs");

const BUILD_TIMEOUT_MS = 170_000;
/** The multimodal module compiles ~50 llama.cpp sources: 105 s on 2 cores here, over 15 min when the machine is 8x oversubscribed. */
const MTMD_BUILD_TIMEOUT_MS = 1_200_000;

/** What is extracted from the bundle: the headers, and what libmtmd is compiled from. */
const SOURCE_PATHS = ["include", "ggml/include", "tools/mtmd", "vendor/stb", "vendor/miniaudio", "vendor/sheredom", "vendor/hash", "src/llama-ext.h"];

function run(cmd, args, opts = {}, label = `${path.basename(cmd)} ${args[0] ?? ""}`) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new Error(`${label}: ${r.error.code === "ETIMEDOUT" ? `timed out after ${Math.round((opts.timeout ?? 0) / 1000)} s` : r.error.message}`);
  if (r.status !== 0) {
    const lines = `${r.stderr}\n${r.stdout}`.split("\n").map((l) => l.trim()).filter(Boolean);
    const err = lines.find((l) => /\berror\b/i.test(l) && !/^gyp (ERR|info)/.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? lines.at(-1);
    throw new Error(`${label} failed: ${err ?? `exit ${r.status}`}`);
  }
  return r;
}

/** Extracts SOURCE_PATHS of node-llama-cpp's llama.cpp sources (a git bundle). */
function ensureSources() {
  const dest = paths.headersDir();
  if (["include/llama.h", "ggml/include/ggml.h", "tools/mtmd/CMakeLists.txt", "src/llama-ext.h"].every((f) => fs.existsSync(path.join(dest, f)))) return;
  const bundle = path.join(paths.nodeLlamaCppDir(), "llama", "gitRelease.bundle");
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing (node-llama-cpp ships llama.cpp's sources there)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llama-embed-"));
  try {
    run("git", ["clone", "--quiet", "--bare", bundle, path.join(tmp, "src.git")]);
    const tar = path.join(tmp, "headers.tar");
    run("git", ["--git-dir", path.join(tmp, "src.git"), "archive", "--format=tar", "-o", tar, "HEAD", ...SOURCE_PATHS]);
    fs.mkdirSync(dest, { recursive: true });
    run("tar", ["-xf", tar, "-C", dest]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function nodeGypCommand() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  const hit = candidates.find((p) => p && fs.existsSync(p));
  if (!hit) throw new Error("node-gyp not found (it comes with npm)");
  return hit;
}

function nodeGypArgs() {
  const args = ["rebuild", "--release", `--jobs=${Math.max(1, os.availableParallelism())}`];
  // Offline: use the headers of the installed Node unless npm already names a node dir.
  const prefix = path.resolve(path.dirname(process.execPath), "..");
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${prefix}`);
  return args;
}

/** node-gyp rebuild in `cwd`, then a check that the module it made loads (`preload`: modules to load first). */
function gypBuild(cwd, output, timeout, preload = []) {
  if (process.env.XRAYGPT_SKIP_NATIVE) throw new Error("build skipped (XRAYGPT_SKIP_NATIVE is set)");
  paths.libraries(); // fails early with a clear reason when the prebuilt libraries are missing
  ensureSources();
  run(process.execPath, [nodeGypCommand(), ...nodeGypArgs()], { cwd, timeout }, "node-gyp rebuild");
  if (!fs.existsSync(output)) throw new Error(`node-gyp finished but ${output} is missing`);
  const probe = spawnSync(process.execPath, ["-e", [...preload, output].map((p) => `require(${JSON.stringify(p)})`).join(";")], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error(`built addon does not load: ${(probe.stderr.split("\n").find((l) => /Error/.test(l)) ?? "").trim()}`);
}

/** Runs one build; on failure writes its one-line reason to `reasonFile`. Returns whether it built. */
function attempt(what, output, reasonFile, unavailable, build) {
  const t0 = Date.now();
  try {
    fs.rmSync(reasonFile, { force: true });
    build();
    console.log(`@xraygpt/llama-embed: built ${path.relative(process.cwd(), output)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return true;
  } catch (e) {
    const reason = String(e instanceof Error ? e.message : e).replace(/\s+/g, " ").trim();
    fs.mkdirSync(path.dirname(reasonFile), { recursive: true });
    fs.writeFileSync(reasonFile, `${reason}\n`);
    console.warn(`@xraygpt/llama-embed: ${what} not built (${reason}); ${unavailable} will be unavailable (retry: npm rebuild @xraygpt/llama-embed)`);
    return false;
  }
}

const only = process.env.XRAYGPT_NATIVE_ONLY; // "embed" or "mtmd": rebuild one module
const embedBuilt =
  only === "mtmd" ? fs.existsSync(addonPath) : attempt("the soft-token addon", addonPath, reasonPath, "soft-token models", () => gypBuild(paths.nativeDir, addonPath, BUILD_TIMEOUT_MS));
if (only !== "embed") {
  attempt("the multimodal module", mtmdAddonPath, mtmdReasonPath, "multimodal (GGUF + mmproj) models", () => {
    if (!embedBuilt) throw new Error("the soft-token addon it builds on did not build");
    gypBuild(path.join(paths.nativeDir, "mtmd"), mtmdAddonPath, MTMD_BUILD_TIMEOUT_MS, [addonPath]);
  });
}
process.exit(0);

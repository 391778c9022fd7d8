// `npm ci` / `npm install` hook: builds the addon with node-gyp and the machine's C++ compiler.
// It never fails the install: on any problem it writes a one-line reason to build-failure.txt
// (read by the server, which then runs without soft-token models) and exits 0.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const paths = require("./llama-paths.cjs");
const { addonPath, reasonPath } = require("../index.cjs");

const BUILD_TIMEOUT_MS = 170_000;

function run(cmd, args, opts = {}, label = `${path.basename(cmd)} ${args[0] ?? ""}`) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new Error(`${label}: ${r.error.code === "ETIMEDOUT" ? "timed out" : r.error.message}`);
  if (r.status !== 0) {
    const lines = `${r.stderr}\n${r.stdout}`.split("\n").map((l) => l.trim()).filter(Boolean);
    const err = lines.find((l) => /\berror\b/i.test(l) && !/^gyp (ERR|info)/.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? lines.at(-1);
    throw new Error(`${label} failed: ${err ?? `exit ${r.status}`}`);
  }
  return r;
}

/** Extracts include/ and ggml/include/ of node-llama-cpp's llama.cpp sources (a git bundle). */
function ensureHeaders() {
  const dest = paths.headersDir();
  if (fs.existsSync(path.join(dest, "include", "llama.h")) && fs.existsSync(path.join(dest, "ggml", "include", "ggml.h"))) return;
  const bundle = path.join(paths.nodeLlamaCppDir(), "llama", "gitRelease.bundle");
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing (node-llama-cpp ships llama.cpp's sources there)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llama-embed-"));
  try {
    run("git", ["clone", "--quiet", "--bare", bundle, path.join(tmp, "src.git")]);
    const tar = path.join(tmp, "headers.tar");
    run("git", ["--git-dir", path.join(tmp, "src.git"), "archive", "--format=tar", "-o", tar, "HEAD", "include", "ggml/include"]);
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

function main() {
  if (process.env.XRAYGPT_SKIP_NATIVE) throw new Error("build skipped (XRAYGPT_SKIP_NATIVE is set)");
  paths.libraries(); // fails early with a clear reason when the prebuilt libraries are missing
  ensureHeaders();
  run(process.execPath, [nodeGypCommand(), ...nodeGypArgs()], { cwd: paths.nativeDir, timeout: BUILD_TIMEOUT_MS }, "node-gyp rebuild");
  if (!fs.existsSync(addonPath)) throw new Error(`node-gyp finished but ${addonPath} is missing`);
  const probe = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(addonPath)})`], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error(`built addon does not load: ${(probe.stderr.split("\n").find((l) => /Error/.test(l)) ?? "").trim()}`);
}

const t0 = Date.now();
try {
  fs.rmSync(reasonPath, { force: true });
  main();
  console.log(`@xraygpt/llama-embed: built ${path.relative(process.cwd(), addonPath)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} catch (e) {
  const reason = String(e instanceof Error ? e.message : e).replace(/\s+/g, " ").trim();
  fs.writeFileSync(reasonPath, `${reason}\n`);
  console.warn(`@xraygpt/llama-embed: not built (${reason}); soft-token models will be unavailable`);
}
process.exit(0);

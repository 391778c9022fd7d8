// Locates what the addon builds against: the llama.cpp shared libraries of node-llama-cpp's
// prebuilt platform package and the headers of the same llama.cpp release (extracted from the
// git bundle node-llama-cpp ships). Used by install.cjs and by binding.gyp (`node llama-paths.cjs KEY`).
const fs = require("node:fs");
const path = require("node:path");

const nativeDir = path.resolve(__dirname, "..");

function findUp(rel) {
  for (let dir = nativeDir; ; dir = path.dirname(dir)) {
    const p = path.join(dir, "node_modules", rel);
    if (fs.existsSync(p)) return p;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function nodeLlamaCppDir() {
  const dir = findUp("node-llama-cpp");
  if (!dir) throw new Error("node-llama-cpp is not installed (needed for its llama.cpp libraries and sources)");
  return dir;
}

/** The llama.cpp release node-llama-cpp was built from (e.g. "v0.4.0"). */
function releaseTag() {
  const info = path.join(nodeLlamaCppDir(), "llama", "llama.cpp.info.json");
  if (!fs.existsSync(info)) throw new Error(`${info} is missing; cannot tell which llama.cpp release to build against`);
  return JSON.parse(fs.readFileSync(info, "utf8")).tag;
}

/** The CPU platform package's library folder (the addon links here; GPU backends are loaded at run time). */
function libDir() {
  const plat = `${process.platform}-${process.arch}`;
  const rel = path.join("@node-llama-cpp", plat, "bins", plat);
  const dir = findUp(rel) ?? findUp(path.join("node-llama-cpp", "node_modules", rel));
  if (!dir) throw new Error(`no prebuilt llama.cpp libraries for ${plat} (package @node-llama-cpp/${plat} is not installed)`);
  return dir;
}

/** libllama*.so, libggml*.so and libggml-base.so: what the addon links against. */
function libraries() {
  const dir = libDir();
  const names = fs.readdirSync(dir);
  const pick = (re, what) => {
    const hit = names.find((n) => re.test(n));
    if (!hit) throw new Error(`${dir} has no ${what} library`);
    return path.join(dir, hit);
  };
  return [pick(/^libllama(\.v[\d.]+)?\.so$/, "libllama"), pick(/^libggml(\.v[\d.]+)?\.so$/, "libggml"), pick(/^libggml-base\.so$/, "libggml-base")];
}

/** libDir relative to build/Release (the addon's runpath, so the checkout can move). */
function libDirFromAddon() {
  return path.relative(path.join(nativeDir, "build", "Release"), libDir());
}

/** libDir relative to mtmd/build/Release (the multimodal module's runpath). */
function libDirFromMtmdAddon() {
  return path.relative(path.join(nativeDir, "mtmd", "build", "Release"), libDir());
}

/** GPU backend files of the installed GPU platform packages (CUDA, Vulkan), loaded at run time when asked. */
function gpuBackendFiles() {
  const files = [];
  for (const [variant, lib] of [["cuda", "libggml-cuda.so"], ["vulkan", "libggml-vulkan.so"]]) {
    const plat = `${process.platform}-${process.arch}-${variant}`;
    const rel = path.join("@node-llama-cpp", plat, "bins", plat, lib);
    const file = findUp(rel) ?? findUp(path.join("node-llama-cpp", "node_modules", rel));
    if (file) files.push(file);
  }
  return files;
}

function headersDir() {
  return path.join(nativeDir, "llama-headers", releaseTag());
}

function includeDirs() {
  const root = headersDir();
  return [path.join(root, "include"), path.join(root, "ggml", "include")];
}

/** Where install.cjs extracts llama.cpp's multimodal library sources (tools/mtmd, vendor/, src/llama-ext.h). */
function mtmdSourceDir() {
  return path.join(headersDir(), "tools", "mtmd");
}

/** mtmd's include folders: the headers above, tools/mtmd, vendor/ (stb, miniaudio, sha256) and src/ (llama-ext.h). */
function mtmdIncludeDirs() {
  const root = headersDir();
  return [...includeDirs(), mtmdSourceDir(), path.join(root, "vendor"), path.join(root, "vendor", "hash"), path.join(root, "src")];
}

/**
 * The sources of llama.cpp's `mtmd` library, as its own CMakeLists.txt lists them (so a release
 * that adds a per-architecture graph builder is followed), plus the vendored hash functions it
 * links; relative to native/mtmd/ (where its binding.gyp is; node-gyp wants relative source paths).
 */
function mtmdSources() {
  const dir = mtmdSourceDir();
  const cmake = fs.readFileSync(path.join(dir, "CMakeLists.txt"), "utf8");
  const block = /add_library\(\s*mtmd\b([^)]*)\)/.exec(cmake);
  if (!block) throw new Error(`${dir}/CMakeLists.txt has no add_library(mtmd ...)`);
  const files = block[1].split(/\s+/).filter((f) => /\.(c|cpp)$/.test(f)).map((f) => path.join(dir, f));
  const hash = path.join(headersDir(), "vendor", "hash");
  files.push(path.join(hash, "hash.cpp"), path.join(hash, "sha256", "sha256.c"));
  return files.map((f) => path.relative(path.join(nativeDir, "mtmd"), f));
}

module.exports = { nativeDir, nodeLlamaCppDir, releaseTag, libDir, libDirFromAddon, libDirFromMtmdAddon, libraries, gpuBackendFiles, headersDir, includeDirs, mtmdSourceDir, mtmdIncludeDirs, mtmdSources };

if (require.main === module) {
  const key = process.argv[2];
  const v = { libDir, libDirFromAddon, libDirFromMtmdAddon, libraries, gpuBackendFiles, includeDirs, releaseTag, mtmdIncludeDirs, mtmdSources }[key]?.();
  if (v === undefined) throw new Error(`unknown key ${key}`);
  process.stdout.write(Array.isArray(v) ? v.join(" ") : v);
}

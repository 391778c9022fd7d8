// Where the built addon, its build-failure reason and the optional GPU backends are; loading is
// done by the server's softtoken/addon.ts, which turns every failure into one readable line.
// `MtmdContext` (the multimodal module, llama.cpp's libmtmd) is the class itself when that module
// built and loads, else undefined (`mtmdUnavailable()` says why); see README.md.
const fs = require("node:fs");
const path = require("node:path");

const addonPath = path.join(__dirname, "build", "Release", "llama_embed.node");
const reasonPath = path.join(__dirname, "build-failure.txt");
const mtmdAddonPath = path.join(__dirname, "mtmd", "build", "Release", "llama_mtmd.node");
const mtmdReasonPath = path.join(__dirname, "mtmd", "build-failure.txt");

let mtmd;
/** The multimodal module, loaded once: { module } or { reason }. */
function loadMtmd() {
  if (mtmd) return mtmd;
  if (!fs.existsSync(mtmdAddonPath)) {
    const why = fs.existsSync(mtmdReasonPath) ? fs.readFileSync(mtmdReasonPath, "utf8").trim().split("\n")[0] : `${mtmdAddonPath} is missing (run \`npm rebuild @xraygpt/llama-embed\`)`;
    return (mtmd = { reason: `the multimodal module was not built: ${why}` });
  }
  try {
    require(addonPath); // libllama first, through the soft-token addon it shares
    mtmd = { module: require(mtmdAddonPath) };
  } catch (e) {
    mtmd = { reason: `the multimodal module ${mtmdAddonPath} does not load: ${String(e && e.message).split("\n")[0]}` };
  }
  return mtmd;
}

module.exports = {
  addonPath,
  reasonPath,
  mtmdAddonPath,
  mtmdReasonPath,
  gpuBackendFiles: () => require("./scripts/llama-paths.cjs").gpuBackendFiles(),
  /** Why MtmdContext is undefined (one line), or undefined when it is available. */
  mtmdUnavailable: () => loadMtmd().reason,
};
Object.defineProperty(module.exports, "MtmdContext", { enumerable: true, get: () => loadMtmd().module?.MtmdContext });

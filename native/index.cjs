// Where the built addon, its build-failure reason and the optional GPU backends are; loading is
// done by the server's softtoken/addon.ts, which turns every failure into one readable line.
const path = require("node:path");

module.exports = {
  addonPath: path.join(__dirname, "build", "Release", "llama_embed.node"),
  reasonPath: path.join(__dirname, "build-failure.txt"),
  gpuBackendFiles: () => require("./scripts/llama-paths.cjs").gpuBackendFiles(),
};

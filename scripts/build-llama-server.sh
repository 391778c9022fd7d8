#!/usr/bin/env bash
# Builds llama.cpp's own llama-server, llama-mtmd-cli and llama-quantize (CPU only) from the sources
# node-llama-cpp ships (llama/gitRelease.bundle), into a cache outside the clone; builds only what is
# not there (incrementally, into the same build folder). Prints the binaries' paths, one a line, in
# that order. Usage: scripts/build-llama-server.sh [CACHE_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bundle="$root/node_modules/node-llama-cpp/llama/gitRelease.bundle"
tag="$(node -p "require('$root/node_modules/node-llama-cpp/llama/llama.cpp.info.json').tag")"
cache="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/xraygpt/llama-server-$tag}"
targets=(llama-server llama-mtmd-cli llama-quantize)
missing=()
for t in "${targets[@]}"; do [ -x "$cache/build/bin/$t" ] || missing+=("$t"); done
if [ "${#missing[@]}" -gt 0 ]; then
  command -v cmake >/dev/null || { echo "cmake is needed to build ${missing[*]}" >&2; exit 2; }
  mkdir -p "$cache"
  [ -d "$cache/src/.git" ] || git clone -q "$bundle" "$cache/src" >&2
  git -C "$cache/src" checkout -q "$tag" 2>/dev/null || true
  [ -f "$cache/build/CMakeCache.txt" ] || cmake -S "$cache/src" -B "$cache/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON >&2
  for t in "${missing[@]}"; do cmake --build "$cache/build" --target "$t" -j "${JOBS:-2}" >&2; done
fi
for t in "${targets[@]}"; do echo "$cache/build/bin/$t"; done

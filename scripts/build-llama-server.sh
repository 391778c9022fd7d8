#!/usr/bin/env bash
# Builds llama.cpp's own llama-server (CPU only) from the sources node-llama-cpp ships
# (llama/gitRelease.bundle), into a cache outside the clone; does nothing when it is there.
# Prints the binary's path. Usage: scripts/build-llama-server.sh [CACHE_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bundle="$root/node_modules/node-llama-cpp/llama/gitRelease.bundle"
tag="$(node -p "require('$root/node_modules/node-llama-cpp/llama/llama.cpp.info.json').tag")"
cache="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/xraygpt/llama-server-$tag}"
bin="$cache/build/bin/llama-server"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
command -v cmake >/dev/null || { echo "cmake is needed to build llama-server" >&2; exit 2; }
mkdir -p "$cache"
[ -d "$cache/src/.git" ] || git clone -q "$bundle" "$cache/src" >&2
git -C "$cache/src" checkout -q "$tag" 2>/dev/null || true
cmake -S "$cache/src" -B "$cache/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON >&2
cmake --build "$cache/build" --target llama-server -j "${JOBS:-2}" >&2
echo "$bin"

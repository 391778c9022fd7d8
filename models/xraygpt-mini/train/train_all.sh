#!/usr/bin/env bash
# Retrains everything of xraygpt-mini from ../shared/data on the CPU (about 45-60 minutes on two
# idle cores; vision ~10 min, LM ~21 min): vision CNN ensemble (5-fold CV members) → vision.onnx;
# occlusion check; SentencePiece tokenizer + report LM → GGUF; parity fixtures; model.json.
# Reads only ../shared/data, writes only models/xraygpt-mini/.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
PY=/usr/bin/python3
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"

if ! "$PY" -c "import torch, torchvision, sentencepiece, onnx, numpy" 2>/dev/null; then
  echo "installing the Debian Python packages for training" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update
  $SUDO apt-get install -y python3-torch python3-torchvision python3-sentencepiece python3-onnx python3-numpy libopenblas0-pthread
fi

mkdir -p "$HERE/work"
echo "== build (the training targets use the project's label extractor: server/dist)"
(cd "$ROOT" && npx tsc -b)
cd "$HERE"
echo "== vision (log: train/work/vision.log)"
"$PY" vision.py | tee work/vision.log
echo "== occlusion check (work/occlusion.png)"
"$PY" occlusion.py | tee work/occlusion.log
echo "== tokenizer + language model (log: train/work/lm.log)"
"$PY" train_lm.py | tee work/lm.log
echo "== export: PyTorch dump + parity fixtures"
"$PY" export.py | tee work/export.log
echo "== GGUF (f32, then Q8_0 with llama.cpp's own llama-quantize: the file the daemon runs)"
(cd "$ROOT" && node server/dist/models/xraygpt-mini/export-gguf.js "$HERE/work/lm-dump.json" "$HERE/work/xraygpt-mini-f32.gguf")
QUANTIZE="$(bash "$ROOT/scripts/build-llama-server.sh" | sed -n 3p)"
"$QUANTIZE" "$HERE/work/xraygpt-mini-f32.gguf" "$ROOT/models/xraygpt-mini/xraygpt-mini.gguf" Q8_0 >"$HERE/work/quantize.log" 2>&1
"$PY" lexicon.py
"$PY" write_manifest.py
ls -l "$ROOT/models/xraygpt-mini"
echo "done: run 'npm test' (parity) and 'npm run eval' (EVAL.md)"

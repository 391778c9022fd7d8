"""Encodes texts with the committed SentencePiece model: JSON list of strings on stdin ->
JSON list of id lists (no BOS) on stdout. Used by the tokenizer parity checks (npm test, npm run eval)."""
import json
import os
import sys

import sentencepiece as spm

MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tokenizer.model")

sp = spm.SentencePieceProcessor(model_file=MODEL)
json.dump([sp.encode(t) for t in json.load(sys.stdin)], sys.stdout, separators=(",", ":"))

"""The project's label extractor (server/src/metrics/label-extractor.ts), called from Python through
server/dist/models/xraygpt-mini/label-texts.js, so training targets and the training-time
faithfulness check use exactly the labels `npm run eval` reads back. Needs `npx tsc -b` first."""
import json
import os
import subprocess
import tempfile

from common import ROOT

SCRIPT = os.path.join(ROOT, "server", "dist", "models", "xraygpt-mini", "label-texts.js")


def stated_findings(texts):
    """texts → list of sets: the observations each text states as present or uncertain."""
    return [{l for l, v in m.items() if v != 0} for m in mentioned_findings(texts)]


def mentioned_findings(texts):
    """texts → list of dicts observation → 1 (present), -1 (uncertain) or 0 (absent)."""
    texts = list(texts)
    if not texts:
        return []
    if not os.path.exists(SCRIPT):
        raise SystemExit(f"{SCRIPT} is missing: run `npx tsc -b` in {ROOT} first")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        with open(src, "w") as f:
            json.dump(texts, f)
        subprocess.run(["node", SCRIPT, src, dst], check=True)
        with open(dst) as f:
            return [dict((l, v) for l, v in x) for x in json.load(f)]

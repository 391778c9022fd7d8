"""The project's label extractor (server/src/metrics/label-extractor.ts), called from Python through
server/dist/models/xraygpt-mini/label-texts.js, so training targets and the training-time
faithfulness check use exactly the labels `npm run eval` reads back. Needs `npx tsc -b` first."""
import json
import os
import subprocess
import tempfile

from common import ROOT

DIST = os.path.join(ROOT, "server", "dist", "models", "xraygpt-mini")


def stated_findings(texts):
    """texts → list of sets: the observations each text states as present or uncertain."""
    return [{l for l, v in m.items() if v != 0} for m in mentioned_findings(texts)]


def mentioned_findings(texts):
    """texts → list of dicts observation → 1 (present), -1 (uncertain) or 0 (absent)."""
    texts = list(texts)
    return [dict((l, v) for l, v in x) for x in _run("label-texts.js", texts)] if texts else []


def typicality(keyed):
    """[(key, text)] → per text, its mean ROUGE-L F against the other texts with the same key
    (server/src/eval/label-ceiling.ts typicality(), the eval baseline's measure)."""
    keyed = list(keyed)
    return _run("typicality-texts.js", [{"key": k, "text": t} for k, t in keyed]) if keyed else []


def _run(script, value):
    path = os.path.join(DIST, script)
    if not os.path.exists(path):
        raise SystemExit(f"{path} is missing: run `npx tsc -b` in {ROOT} first")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        with open(src, "w") as f:
            json.dump(value, f)
        subprocess.run(["node", path, src, dst], check=True)
        with open(dst) as f:
            return json.load(f)

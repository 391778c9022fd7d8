"""Writes models/xraygpt-mini/model.json from the training outputs (vision spec + threshold)."""
import json
import os

from common import MODEL_DIR, WORK
from iu_data import VIEW_LABELS, VISION_LABELS
from prompt_format import CANDIDATE_TEMPERATURE, CANDIDATES, DEFAULT_PROMPT, EVIDENCE_CANDIDATES, EVIDENCE_TEMPERATURE, QUORUM, STOP, TEMPLATE, TURN_TEMPLATE

# The uncertain band, in the calibrated probabilities (0.5 = each label's operating point).
UNCERTAIN = [0.4, 0.5]


def main():
    vision = json.load(open(os.path.join(WORK, "vision.json")))
    lm = json.load(open(os.path.join(WORK, "lm-dump.json")))["config"]
    manifest = {
        "id": "xraygpt-mini",
        "name": "XrayGPT-mini",
        "version": "0.2.0",
        "description": "Small bundled chest-radiograph model trained in this repository: a CNN ensemble at %d px (NIH ChestX-ray14 subsets, COVID-CXR, PneumoniaMNIST; %d observations and the view) "
        "and a %d-layer llama-architecture report writer trained on IU X-ray reports, conditioned on a findings line. Research and demonstration only; not for clinical use."
        % (vision["input"]["width"], len(VISION_LABELS), lm["layers"]),
        "license": "CC-BY-NC-ND-4.0 (weights derived from IU X-ray, CC BY-NC-ND 4.0; NIH ChestX-ray14, unrestricted with acknowledgement of the NIH Clinical Center; PneumoniaMNIST CC BY 4.0; COVID-CXR mostly CC BY-NC-SA). See MODEL_CARD.md.",
        "vision": {
            "file": "vision.onnx",
            "input": vision["input"],
            "outputs": [
                {"kind": "labels", "name": "findings", "activation": "sigmoid", "labels": VISION_LABELS, "role": "findings"},
                {"kind": "labels", "name": "view", "activation": "softmax", "labels": VIEW_LABELS, "role": "view"},
            ],
        },
        # lexicon.txt (lexicon.py): consensus decoding prefers candidates whose words are all in it.
        "llm": {"file": "xraygpt-mini.gguf", "contextSize": lm["ctx"], "lexicon": "lexicon.txt"},
        # The findings logits carry each label's operating point (vision.py), so one threshold, 0.5,
        # serves every label; just below it a label is "uncertain" (neither stated nor denied).
        "conditioning": {"mode": "findings-text", "threshold": 0.5, "uncertain": UNCERTAIN},
        "prompt": {"template": TEMPLATE, "turnTemplate": TURN_TEMPLATE, "stop": STOP, "defaultPrompt": DEFAULT_PROMPT},
        # Consensus decoding (server/src/host/consensus.ts): greedy + sampled candidates, the answer
        # checked against the findings line, then the one agreeing most with the evidence samples
        # (ROUGE-L).
        # Once QUORUM of them have finished, the longest stragglers are cut (never the answer).
        "generation": {"maxTokens": 160, "temperature": 0, "topP": 1, "topK": 1, "repeatPenalty": 1, "seed": 0,
                       "candidates": CANDIDATES, "candidateTemperature": CANDIDATE_TEMPERATURE,
                       "evidenceCandidates": EVIDENCE_CANDIDATES, "evidenceTemperature": EVIDENCE_TEMPERATURE, "candidateQuorum": QUORUM},
    }
    with open(os.path.join(MODEL_DIR, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()

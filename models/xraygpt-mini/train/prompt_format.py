"""The prompt format shared by training, export and model.json (XrayGPT style)."""
TEMPLATE = "###Patient: {findings} {prompt} ###Doctor:"
TURN_TEMPLATE = " ###Patient: {prompt} ###Doctor:"
STOP = ["###"]
DEFAULT_PROMPT = "Describe the given chest x-ray image in detail."
CANDIDATES = 64  # consensus decoding: candidates per answer (the greedy one + 63 sampled)
QUORUM = 0.75  # consensus decoding: once this fraction has finished, the stragglers are cut
# Of the candidates, EVIDENCE_CANDIDATES (the last ones) are evidence: sampled at the model's own
# temperature (1.0), they are what the others (the greedy one + 39 at CANDIDATE_TEMPERATURE) are scored
# against, and the answer only when none of the others passes the findings checks as well. Chosen on
# 500 IU X-ray *train* studies, mean ROUGE-L over four candidate seeds (the eval part "temperature";
# val only reported), for the writer trained with typicality weighting: 40 at 0.4 against 24 at 1.0
# 0.303 (against 48: 0.303), at 0.6 0.298, at 0.8 0.285, at 0.2 0.262; 64 at 1.0 against each other
# 0.292, 64 at 0.6 0.263 (one seed's figure moves by up to 0.03).
# An observation the line gives as uncertain that a candidate states or denies counts against it.
CANDIDATE_TEMPERATURE = 0.4
EVIDENCE_CANDIDATES = 24
EVIDENCE_TEMPERATURE = 1.0

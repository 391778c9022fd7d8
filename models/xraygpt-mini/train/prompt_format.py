"""The prompt format shared by training, export and model.json (XrayGPT style)."""
TEMPLATE = "###Patient: {findings} {prompt} ###Doctor:"
TURN_TEMPLATE = " ###Patient: {prompt} ###Doctor:"
STOP = ["###"]
DEFAULT_PROMPT = "Describe the given chest x-ray image in detail."
CANDIDATES = 64  # consensus decoding: candidates per answer (the greedy one + 63 sampled)
QUORUM = 0.75  # consensus decoding: once this fraction has finished, the stragglers are cut
# The consensus candidates' sampling temperature, chosen on IU X-ray train studies by the eval part
# "temperature" (EVAL.md): 0.6 scored best of 0.5-1.0 there.
CANDIDATE_TEMPERATURE = 0.6

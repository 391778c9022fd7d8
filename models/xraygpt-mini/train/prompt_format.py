"""The prompt format shared by training, export and model.json (XrayGPT style)."""
TEMPLATE = "###Patient: {findings} {prompt} ###Doctor:"
TURN_TEMPLATE = " ###Patient: {prompt} ###Doctor:"
STOP = ["###"]
DEFAULT_PROMPT = "Describe the given chest x-ray image in detail."
CANDIDATES = 64  # consensus decoding: candidates per answer (the greedy one + 63 sampled)
QUORUM = 0.75  # consensus decoding: once this fraction has finished, the stragglers are cut

"""The prompt format shared by training, export and model.json (XrayGPT style)."""
TEMPLATE = "###Patient: {findings} {prompt} ###Doctor:"
TURN_TEMPLATE = " ###Patient: {prompt} ###Doctor:"
STOP = ["###"]
DEFAULT_PROMPT = "Describe the given chest x-ray image in detail."
CANDIDATES = 64  # consensus decoding: candidates per answer (the greedy one + 63 sampled)
QUORUM = 0.75  # consensus decoding: once this fraction has finished, the stragglers are cut
# The consensus candidates' sampling temperature. The eval part "temperature" (EVAL.md) scores ROUGE-L
# best at 0.6 on IU X-ray train studies, but at 0.6 the summaries state findings the vision model left
# uncertain far more often (NIH val text micro F1 0.466 -> 0.445, Atelectasis false positives 12 -> 31),
# so the findings the text states come first and it stays at 1.0.
CANDIDATE_TEMPERATURE = 1.0

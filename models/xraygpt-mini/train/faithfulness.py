"""Faithfulness during training: labels the project's extractor finds in generated text against the
labels given (the same measure `npm run eval` reports; 13 observations, No Finding excluded)."""
from iu_data import CHEXPERT
from labels_ts import stated_findings

LABELS = tuple(l for l in CHEXPERT if l != "No Finding")


def score(pairs, labels=LABELS):
    """pairs: [(given positive set, generated text)] → (micro F1, share of stated findings not given)."""
    tp = fp = fn = 0
    for (given, _), got in zip(pairs, stated_findings(text for _, text in pairs)):
        got, g = got & set(labels), set(given) & set(labels)
        tp += len(got & g)
        fp += len(got - g)
        fn += len(g - got)
    return 2 * tp / max(1, 2 * tp + fp + fn), fp / max(1, tp + fp)

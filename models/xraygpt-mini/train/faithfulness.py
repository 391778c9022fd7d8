"""Faithfulness during training: labels the project's extractor finds in generated text against the
labels given (the same measure `npm run eval` reports; 13 observations, No Finding excluded)."""
from labels_ts import stated_findings

LABELS = ("Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema", "Consolidation", "Pneumonia",
          "Atelectasis", "Pneumothorax", "Pleural Effusion", "Pleural Other", "Fracture", "Support Devices")


def score(pairs, labels=LABELS):
    """pairs: [(given positive set, generated text)] → (micro F1, share of stated findings not given)."""
    tp = fp = fn = 0
    for (given, _), got in zip(pairs, stated_findings(text for _, text in pairs)):
        got, g = got & set(labels), set(given) & set(labels)
        tp += len(got & g)
        fp += len(got - g)
        fn += len(g - got)
    return 2 * tp / max(1, 2 * tp + fp + fn), fp / max(1, tp + fp)

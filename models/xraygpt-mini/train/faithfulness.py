"""A quick keyword + negation label check, used only to monitor conditioning during training
(the reported figures come from the project's metrics module in `npm run eval`)."""
import re

from iu_data import KEYWORDS, sentences

NEG = re.compile(r"\b(no|without|negative for|free of|clear of|resolved|normal)\b")


def stated_positive(text):
    """CheXpert labels stated as present in `text` (keyword in a sentence, not after a negation)."""
    found = set()
    for s in sentences(text):
        low = s.lower()
        for label, kws in KEYWORDS.items():
            for k in kws:
                i = low.find(k)
                if i >= 0 and not NEG.search(low[:i]):
                    found.add(label)
    return found


def score(pairs, labels=("Cardiomegaly", "Lung Opacity", "Edema", "Pneumothorax", "Pleural Effusion", "Atelectasis", "Consolidation", "Pneumonia", "Fracture")):
    """pairs: [(given positive set, generated text)] → (F1, rate of stated-but-not-given)."""
    tp = fp = fn = 0
    halluc = 0
    stated = 0
    for given, text in pairs:
        got = stated_positive(text) & set(labels)
        g = set(given) & set(labels)
        tp += len(got & g)
        fp += len(got - g)
        fn += len(g - got)
        stated += len(got)
        halluc += len(got - g)
    f1 = 2 * tp / max(1, 2 * tp + fp + fn)
    return f1, halluc / max(1, stated)

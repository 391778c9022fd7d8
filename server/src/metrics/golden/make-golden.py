#!/usr/bin/python3
"""Golden values for the metrics tests, computed with Debian's python3-nltk (3.8).

Run from this folder:  /usr/bin/python3 make-golden.py   (Debian 12: apt-get install python3-nltk)
words.txt is fixed input: the distinct lowercase words of the IU X-ray reports' findings,
impression and MeSH fields (XXXX redactions removed) plus the examples of Porter's paper and
NLTK's irregular forms, extracted once and committed.
Writes porter.json (PorterStemmer outputs for words.txt in all three modes) and bleu.json
(nltk.translate.bleu_score.corpus_bleu on the fixed corpora below, plus the tokens they were
computed on). The tokenizer here is the one of Google's rouge-score (DefaultTokenizer), written
out because rouge-score is not packaged in Debian: lowercase, [^a-z0-9]+ -> space, split, stem
tokens longer than 3 characters with nltk's PorterStemmer when asked, keep ^[a-z0-9]+$ tokens.
"""
import json
import re
import warnings

import nltk
from nltk.stem.porter import PorterStemmer
from nltk.translate.bleu_score import corpus_bleu

warnings.filterwarnings("ignore")

stemmers = {m: PorterStemmer(mode=m) for m in ("NLTK_EXTENSIONS", "MARTIN_EXTENSIONS", "ORIGINAL_ALGORITHM")}


def tokenize(text, stem=False):
    text = re.sub(r"[^a-z0-9]+", " ", text.lower())
    tokens = re.split(r"\s+", text)
    if stem:
        tokens = [stemmers["NLTK_EXTENSIONS"].stem(t) if len(t) > 3 else t for t in tokens]
    return [t for t in tokens if re.match(r"^[a-z0-9]+$", t)]


words = [w for w in open("words.txt").read().split("\n") if w]
porter = {"nltk": nltk.__version__, "words": words, "stems": {m: [s.stem(w) for w in words] for m, s in stemmers.items()}}
with open("porter.json", "w") as f:
    json.dump(porter, f, indent=0)
    f.write("\n")

# Each corpus: list of (references, hypothesis) as texts.
CORPORA = {
    "radiology": [
        (["The heart size is normal. The lungs are clear. No pleural effusion or pneumothorax."],
         "Heart size is normal. Lungs are clear without effusion or pneumothorax."),
        (["Mild cardiomegaly. Small left pleural effusion with adjacent atelectasis."],
         "There is mild cardiomegaly with a small left effusion."),
        (["No acute cardiopulmonary abnormality."], "No acute cardiopulmonary disease."),
        (["Right lower lobe opacity may represent pneumonia. Recommend follow-up."],
         "Opacity in the right lower lobe, possibly pneumonia."),
    ],
    "multi_reference": [
        (["It is a guide to action which ensures that the military always obeys the commands of the party.",
          "It is the guiding principle which guarantees the military forces always being under the command of the Party.",
          "It is the practical guide for the army always to heed the directions of the party."],
         "It is a guide to action which ensures that the military always obeys the commands of the party."),
        (["He was interested in world history because he read the book."],
         "He read the book because he was interested in world history."),
        (["The cardiomediastinal silhouette is within normal limits.", "Normal heart size and mediastinal contours."],
         "Normal cardiomediastinal silhouette."),
    ],
    "no_fourgram_match": [
        (["the cat sat on the mat"], "the cat on mat sat the"),
        (["a b c d e"], "a b x c d"),
    ],
    "brevity_tie": [
        (["one two three four", "one two three four five six"], "one two three four five"),
        (["alpha beta gamma"], "alpha beta"),
    ],
    "short_hypotheses": [
        (["no effusion"], "no"),
        (["clear lungs bilaterally"], "clear lungs"),
        (["pneumothorax"], ""),
    ],
    "repeated_words": [
        (["the cat is on the mat", "there is a cat on the mat"], "the the the the the the the"),
    ],
    "no_unigram_match": [
        (["normal chest"], "abnormal study"),
    ],
}
WEIGHTS = {
    "bleu1": (1.0,),
    "bleu2": (0.5, 0.5),
    "bleu3": (1 / 3, 1 / 3, 1 / 3),
    "bleu4": (0.25, 0.25, 0.25, 0.25),
    "custom_0.1_0.2_0.3_0.4": (0.1, 0.2, 0.3, 0.4),
}
out = {"nltk": nltk.__version__, "corpora": {}}
for name, pairs in CORPORA.items():
    refs = [[tokenize(r) for r in rs] for rs, _ in pairs]
    hyps = [tokenize(h) for _, h in pairs]
    out["corpora"][name] = {
        "references": [rs for rs, _ in pairs],
        "hypotheses": [h for _, h in pairs],
        "referenceTokens": refs,
        "hypothesisTokens": hyps,
        "stemmedHypothesisTokens": [tokenize(h, stem=True) for _, h in pairs],
        "bleu": {k: corpus_bleu(refs, hyps, weights=w) for k, w in WEIGHTS.items()},
        "weights": {k: list(w) for k, w in WEIGHTS.items()},
    }
with open("bleu.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote porter.json (%d words) and bleu.json (%d corpora)" % (len(words), len(CORPORA)))

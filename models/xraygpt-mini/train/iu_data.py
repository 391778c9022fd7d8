"""IU X-ray reports → conditioned training conversations for the report language model.

The findings line mirrors server/src/pipeline/condition.ts findingsLine() exactly:
  "View: frontal. Assessed: Pneumonia positive, Lung Opacity negative."
Labels are CheXpert's 14 observations, mapped from the IU MeSH indexing (MESH_MAP). Only
assessed labels are listed; sentences about labels that were NOT assessed are removed from the
target text, so the model learns never to state an unassessed finding as present or absent.

Targets agree with their findings line as the project's label extractor reads them: a sentence that
states a finding the line does not give as positive is dropped, and a given positive that no
remaining sentence states gets a plain sentence (CANONICAL). The sentences stating positives come
first, in the line's order, so the answer opens with what the line says is present (LM_ORDER=0 keeps
the report's own order: val ROUGE-L 0.328 against 0.337 with consensus decoding, less faithful
greedy answers).
"""
import csv
import functools
import os
import random
import re

from common import DATA
from labels_ts import mentioned_findings

CHEXPERT = [
    "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema",
    "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Pleural Other",
    "Fracture", "Support Devices",
]
# The vision model's findings labels (manifest order) and view labels.
from vision_data import VIEW_LABELS, VISION_LABELS  # noqa: E402

# MeSH head → CheXpert labels: a port of server/src/metrics/mesh-to-chexpert.ts (the project's
# mapping, consistent with its label extractor). "borderline" (uncertain there) counts as positive.
SIZE_UP = ("enlarged", "prominent", "widened", "wide", "large", "increased")


def _mesh_head(head, q):
    up = any(w in q for w in SIZE_UP)
    table = {
        "cardiomegaly": ["Cardiomegaly"],
        "cardiac shadow": ["Cardiomegaly"] if up else [],
        "heart": ["Cardiomegaly"] if up else [],
        "heart ventricles": ["Cardiomegaly"] if up else [],
        "heart atria": ["Cardiomegaly"] if up else [],
        "mediastinum": ["Enlarged Cardiomediastinum"] if up and "lymph nodes" not in q else [],
        "opacity": ["Lung Opacity"],
        "density": [] if ("mediastinum" in q or "bone" in q) else ["Lung Opacity"],
        "infiltrate": ["Lung Opacity"],
        "airspace disease": ["Lung Opacity"],
        "markings": ["Lung Opacity"] if "interstitial" in q else [],
        "lung diseases, interstitial": ["Lung Opacity"],
        "pulmonary fibrosis": ["Lung Opacity"],
        "fibrosis": ["Lung Opacity"],
        "cicatrix": ["Pleural Other"] if "pleura" in q else ["Lung Opacity"],
        "nodule": ["Lung Lesion"], "mass": ["Lung Lesion"], "cavitation": ["Lung Lesion"],
        "pulmonary edema": ["Edema"], "edema": ["Edema"], "pulmonary congestion": ["Edema"], "heart failure": ["Edema"],
        "consolidation": ["Consolidation"], "pneumonia": ["Pneumonia"],
        "pulmonary atelectasis": ["Atelectasis"], "atelectasis": ["Atelectasis"],
        "pneumothorax": ["Pneumothorax"], "hydropneumothorax": ["Pneumothorax", "Pleural Effusion"],
        "hemopneumothorax": ["Pneumothorax", "Pleural Effusion"],
        "pleural effusion": ["Pleural Effusion"], "hemothorax": ["Pleural Effusion"],
        "costophrenic angle": ["Pleural Effusion"] if "blunted" in q else [],
        "thickening": ["Pleural Other"] if "pleura" in q else [], "pleura": ["Pleural Other"],
        "fractures, bone": ["Fracture"], "fractures": ["Fracture"], "fracture": ["Fracture"],
        "catheters, indwelling": ["Support Devices"], "surgical instruments": ["Support Devices"],
        "implanted medical device": ["Support Devices"], "medical device": ["Support Devices"],
        "tube, inserted": ["Support Devices"], "stents": ["Support Devices"], "sutures": ["Support Devices"],
    }
    return table.get(head, [])


# Words that mark a sentence as being about a label (used to drop sentences on unassessed labels
# and to pick answer sentences for chat questions).
KEYWORDS = {
    "Enlarged Cardiomediastinum": ["mediastin", "hilar", "hila"],
    "Cardiomegaly": ["heart", "cardiac", "cardiomegaly", "cardiomediastinal"],
    "Lung Opacity": ["opacit", "infiltrat", "airspace", "air space", "densit"],
    "Lung Lesion": ["nodul", "mass", "lesion"],
    "Edema": ["edema", "congestion", "vascular"],
    "Consolidation": ["consolidat"],
    "Pneumonia": ["pneumonia", "infect"],
    "Atelectasis": ["atelecta"],
    "Pneumothorax": ["pneumothora"],
    "Pleural Effusion": ["effusion"],
    "Pleural Other": ["pleural thicken", "pleural scar"],
    "Fracture": ["fractur"],
    "Support Devices": ["catheter", "tube", "pacemaker", "picc", "clips", "wires", "sternotomy", "device", "port "],
}

# A plain sentence per observation, stated as present by the label extractor (checked in training).
CANONICAL = {
    "Enlarged Cardiomediastinum": "The cardiomediastinal silhouette is enlarged.",
    "Cardiomegaly": "The heart is enlarged.",
    "Lung Opacity": "There is an airspace opacity.",
    "Lung Lesion": "There is a pulmonary nodule.",
    "Edema": "There is pulmonary edema.",
    "Consolidation": "There is consolidation.",
    "Pneumonia": "There is pneumonia.",
    "Atelectasis": "There is atelectasis.",
    "Pneumothorax": "There is a pneumothorax.",
    "Pleural Effusion": "There is a pleural effusion.",
    "Pleural Other": "There is pleural thickening.",
    "Fracture": "There is a fracture.",
    "Support Devices": "Support devices are in place.",
}

# The impression's statement of a positive that the report's own impression does not state.
IMPRESSION = {
    "Enlarged Cardiomediastinum": "Enlarged cardiomediastinal silhouette.",
    "Cardiomegaly": "Cardiomegaly.",
    "Lung Opacity": "Airspace opacity.",
    "Lung Lesion": "Pulmonary nodule.",
    "Edema": "Pulmonary edema.",
    "Consolidation": "Consolidation.",
    "Pneumonia": "Pneumonia.",
    "Atelectasis": "Atelectasis.",
    "Pneumothorax": "Pneumothorax.",
    "Pleural Effusion": "Pleural effusion.",
    "Pleural Other": "Pleural thickening.",
    "Fracture": "Fracture.",
}
NO_POSITIVE_IMPRESSION = "No acute abnormality among the assessed findings."

# label → (questions, "Yes, there is …", "No, there is no …", "… was not assessed.")
QUESTIONS = {
    "Pleural Effusion": (["Is there a pleural effusion?", "Any pleural effusion?"], "a pleural effusion", "pleural effusion", "Pleural effusion"),
    "Pneumothorax": (["Is there a pneumothorax?"], "a pneumothorax", "pneumothorax", "Pneumothorax"),
    "Pneumonia": (["Is there pneumonia?", "Are there signs of pneumonia?"], "pneumonia", "pneumonia", "Pneumonia"),
    "Cardiomegaly": (["How is the heart size?", "Is the heart enlarged?"], "cardiomegaly", "cardiomegaly", "Heart size"),
    "Lung Opacity": (["Is there any lung opacity?"], "a lung opacity", "focal lung opacity", "Lung opacity"),
    "Edema": (["Is there pulmonary edema?"], "pulmonary edema", "pulmonary edema", "Pulmonary edema"),
    "Consolidation": (["Is there consolidation?"], "consolidation", "consolidation", "Consolidation"),
    "Atelectasis": (["Is there atelectasis?"], "atelectasis", "atelectasis", "Atelectasis"),
    "Fracture": (["Are there any fractures?"], "a fracture", "fracture", "Fracture"),
}
# Questions on three more observations, so a question on them is answered about them (not
# about another observation).
QUESTIONS.update({
    "Enlarged Cardiomediastinum": (["Is the mediastinum widened?"], "an enlarged cardiomediastinal silhouette", "mediastinal widening", "The mediastinum"),
    "Lung Lesion": (["Is there a nodule or mass?", "Is there a lung nodule?"], "a lung nodule or mass", "nodule or mass", "Lung lesion"),
    "Support Devices": (["Are there any support devices?", "Are there any lines or tubes?"], "a support device", "support device", "Support devices"),
})
# Optional extra chat turns (LM_AUX=1): "Which findings are positive?", whose answer restates the
# line's positives (binding each label to its status).
AUX = os.environ.get("LM_AUX", "0") == "1"
LIST_QS = ["Which findings are positive?", "What did the image model find?"]


def list_answer(assessed, positives):
    hot = [l for l in assessed if l in positives and l != "No Finding"]
    if not assessed:
        return "No findings were assessed."
    return f"Positive: {', '.join(hot)}." if hot else "None of the assessed findings is positive."
DESCRIBE_PROMPTS = [
    "Describe the given chest x-ray image in detail.",
    "Describe the given chest x-ray image in detail.",
    "Write a radiology report for this chest x-ray.",
    "Summarize the findings of this chest radiograph.",
]
IMPRESSION_Q = "What is the impression?"
FINDINGS_Q = "What are the findings?"


def clean(text):
    """Whitespace collapsed, and a period repeated (". .", "..") kept once: "abnormality. ." taught
    the writer to end summaries with a stray period."""
    return re.sub(r"\.(\s*\.)+", ".", re.sub(r"\s+", " ", (text or "").strip()))


def report_labels(mesh):
    """MeSH field → set of positive CheXpert labels (No Finding when no pathology)."""
    pos = set()
    for term in mesh.split(";"):
        parts = [" ".join(p.strip().lower().split()) for p in term.split("/")]
        if parts and parts[0]:
            pos.update(_mesh_head(parts[0], parts[1:]))
    if not (pos - {"Support Devices"}):
        pos.add("No Finding")
    return pos


@functools.lru_cache(maxsize=None)
def load_reports(split):
    """The split's reports (read and labelled once per process; callers must not modify them)."""
    path = os.path.join(DATA, "iu-xray", "reports.csv")
    views = {}
    with open(os.path.join(DATA, "iu-xray", "projections.csv"), newline="") as f:
        for r in csv.DictReader(f):
            views.setdefault(r["uid"], set()).add(r["projection"].strip().lower())
    out = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["split"] != split:
                continue
            findings, impression = clean(r["findings"]), clean(r["impression"])
            if not impression and not findings:
                continue
            out.append({
                "uid": r["uid"], "mesh": r["MeSH"], "labels": report_labels(r["MeSH"]),
                "findings": findings, "impression": impression,
                "views": sorted(views.get(r["uid"], {"frontal"})),
            })
    attach_stated(out)
    return out


def attach_stated(reps):
    """Adds "f_sents"/"i_sents": the findings'/impression's sentences, each with the observations
    the extractor reads in it ({label: 1 present, -1 uncertain, 0 absent})."""
    parts = [(rep, key, sentences(rep[key])) for rep in reps for key in ("findings", "impression")]
    uniq = sorted({x for _, _, ss in parts for x in ss} | set(CANONICAL.values()))
    stated = dict(zip(uniq, mentioned_findings(uniq)))
    for label, sentence in CANONICAL.items():
        assert stated[sentence] == {label: 1}, f"canonical sentence {sentence!r} reads as {stated[sentence]}"
    checks = list(IMPRESSION.values()) + [uncertain_answer(l) for l in QUESTIONS] + [NO_POSITIVE_IMPRESSION]
    read = dict(zip(checks, mentioned_findings(checks)))
    for label, sentence in IMPRESSION.items():
        assert read[sentence] == {label: 1}, f"impression sentence {sentence!r} reads as {read[sentence]}"
    for label in QUESTIONS:
        assert all(v == -1 for v in read[uncertain_answer(label)].values()), f"{uncertain_answer(label)!r} reads as {read[uncertain_answer(label)]}"
    assert read[NO_POSITIVE_IMPRESSION] == {}
    for rep, key, ss in parts:
        rep[key[0] + "_sents"] = [(x, stated[x]) for x in ss]


def findings_line(assessed, positives, view=None, uncertain=()):
    """Mirror of condition.ts findingsLine() (labels listed in the given order)."""
    parts = []
    if view is not None:
        parts.append(f"View: {view.lower()}.")
    status = lambda l: "uncertain" if l in uncertain else "positive" if l in positives else "negative"
    entries = [f"{l} {status(l)}" for l in assessed]
    parts.append(f"Assessed: {', '.join(entries) if entries else 'none'}.")
    return " ".join(parts)


def render(template, findings, prompt):
    """Mirror of condition.ts renderTemplate()."""
    s = template.replace("{findings}", findings).replace("{prompt}", prompt)
    return re.sub(r" {2,}", " ", s)


def sentences(text):
    """Sentences; a bare list number ("1.") stays with the item it numbers, so dropping an item
    never leaves an empty "1. 2." behind."""
    out = []
    for s in (s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text)):
        if not s:
            continue
        if out and re.fullmatch(r"\d+\.", out[-1]):
            out[-1] = f"{out[-1]} {s}"
        else:
            out.append(s)
    return out


def mentions(sentence):
    low = sentence.lower()
    return {l for l, kws in KEYWORDS.items() if any(k in low for k in kws)}


def keep_sentences(sents, assessed, positives):
    """Sentences that state nothing beyond the given positives, deny none of them, and mention no
    unassessed label (unless they also mention an assessed positive). Returns (sentence, stated)."""
    a = set(assessed)
    allowed = a & set(positives)
    out = []
    for x, m in sents:
        stated = {l for l, v in m.items() if v != 0}
        denied = {l for l, v in m.items() if v == 0}
        if stated <= allowed and not (denied & allowed) and (not (mentions(x) - a) or (mentions(x) & allowed)):
            out.append((x, stated))
    return out


ORDER_POSITIVES = os.environ.get("LM_ORDER", "1") == "1"


def rank(stated):
    return min((CHEXPERT.index(l) for l in stated), default=len(CHEXPERT))


def target_texts(rep, assessed, positives):
    """(findings, impression) for a training answer, consistent with the findings line. Labels
    given as uncertain are passed here as not assessed: nothing is said about them. The findings
    state every given positive; the impression always names them (or, with none, says so)."""
    f = keep_sentences(rep["f_sents"], assessed, positives)
    i = keep_sentences(rep["i_sents"], assessed, positives)
    hot = [l for l in assessed if l in positives and l in CANONICAL]
    said_f = set().union(*(st for _, st in f))
    f = f + [(CANONICAL[l], {l}) for l in hot if l not in said_f]
    if ORDER_POSITIVES:
        f = sorted(f, key=lambda p: rank(p[1]))  # stable: positives in line order, then the rest
    said_i = set().union(*(st for _, st in i))
    i = [(IMPRESSION[l], {l}) for l in hot if l in IMPRESSION and l not in said_i] + i
    if not i:
        i = [(NO_POSITIVE_IMPRESSION, set())]
    return " ".join(x for x, _ in f), " ".join(x for x, _ in i)


def describe_answer(findings, impression):
    parts = []
    if findings:
        parts.append(f"Findings: {findings}")
    if impression:
        parts.append(f"Impression: {impression}")
    return " ".join(parts)


def uncertain_answer(label):
    return f"Possible {QUESTIONS[label][2]}."


def yes_answer(label):
    return f"Yes, there is {QUESTIONS[label][1]}."


def no_answer(label):
    return f"No, there is no {QUESTIONS[label][2]}."


def not_assessed_answer(label):
    return f"{QUESTIONS[label][3]} was not assessed."


NORMAL_HEART_ANSWER = "The heart size is normal."


def answer_templates():
    """Every fixed sentence of the chat answers the LM is trained on (lexicon.py takes their words,
    which the report texts may not have: "Yes", "assessed")."""
    out = [NORMAL_HEART_ANSWER, list_answer([], []), list_answer(["Pneumonia"], []), list_answer(list(QUESTIONS), list(QUESTIONS))]
    for label in QUESTIONS:
        out += [yes_answer(label), no_answer(label), not_assessed_answer(label), uncertain_answer(label)]
    return out


def question_answer(label, rep, assessed, positives, rng, uncertain=()):
    """A question about `label` and its answer from the line; with `rep` None (a synthetic line),
    only the fixed answer sentences."""
    q = rng.choice(QUESTIONS[label][0])
    if label in uncertain:
        return q, uncertain_answer(label)
    if label not in assessed:
        return q, not_assessed_answer(label)
    kept = keep_sentences(rep["f_sents"] + rep["i_sents"], assessed, positives) if rep is not None else []
    if label in positives:
        hit = [x for x, st in kept if label in st]
        return q, (f"Yes. {hit[0]}" if hit else yes_answer(label))
    if label == "Cardiomegaly":
        neg = [x for x, _ in kept if label in mentions(x) and ("normal" in x.lower() or "within" in x.lower())]
        return q, (neg[0] if neg else NORMAL_HEART_ANSWER)
    return q, no_answer(label)


def question_label(assessed, positives, rng):
    """The observation a chat question asks about. Half the questions ask about an assessed one
    (half of those about a given positive, when there is one), so "Assessed: Pneumonia positive."
    followed by "Is there pneumonia?" is not left to the rare reports with pneumonia; the rest are
    uniform, including unassessed ones ("… was not assessed.")."""
    asked = [l for l in assessed if l in QUESTIONS]
    hot = [l for l in asked if l in positives]
    r = rng.random()
    if hot and r < 0.25:
        return rng.choice(hot)
    if asked and r < 0.5:
        return rng.choice(asked)
    return rng.choice(sorted(QUESTIONS))


def sample_uncertain(assessed, rng):
    """Labels the line gives as uncertain (the vision model's band just below its threshold)."""
    if rng.random() >= 0.25:
        return []
    pool = [l for l in assessed if l != "No Finding"]
    return rng.sample(pool, min(len(pool), rng.choice([1, 1, 2])))


def sample_assessed(rep, rng):
    """Which labels this training example marks as assessed (in CheXpert order)."""
    r = rng.random()
    if r < 0.35:
        chosen = set(CHEXPERT)
    elif r < 0.6:
        chosen = set(VISION_LABELS)
    elif r < 0.63:
        chosen = set()
    else:
        chosen = {l for l in CHEXPERT if rng.random() < 0.5}
    return [l for l in CHEXPERT if l in chosen]


# Share of the question-first training conversations whose findings line is synthetic: positives
# drawn at random among the assessed labels, independently of the report, and the answer one of the
# fixed sentences. The answer to "Is there pneumonia?" depends only on the line; with the report's
# own labels, the few reports with pneumonia left the model answering "No, there is no pneumonia."
# to a line that gives it (33 of 40 samples), so chat answers must be read off the line.
SYNTH_QA = float(os.environ.get("LM_SYNTH_QA", "0"))


def synthetic_positives(assessed, rng):
    findings = [l for l in assessed if l != "No Finding"]
    pos = {l for l in findings if rng.random() < 0.3}
    return pos or {"No Finding"}


def make_conversation(rep, template, turn_template, rng, assessed=None, prompt=None, follow_ups=None, uncertain=None):
    """Returns (text, spans): the conversation exactly as the daemon builds it (first turn from
    `template`, follow-ups as condition.ts followUpText: " " + answer + turn_template), and the
    character spans the model is trained to produce: each answer plus the "###" stop after it."""
    synthetic = SYNTH_QA > 0 and prompt is None and follow_ups is None and rng.random() < SYNTH_QA * 0.25
    if assessed is None:
        assessed = sample_assessed(rep, rng)
    if synthetic:  # one question on a synthetic line, answered with the fixed sentences (SYNTH_QA)
        positives, views, rep, follow_ups = synthetic_positives(assessed, rng), VIEW_LABELS, None, 0
    else:
        positives, views = rep["labels"], rep["views"]
    view = rng.choice(views + [None]) if rng.random() < 0.8 else None
    uncertain = sample_uncertain(assessed, rng) if uncertain is None else uncertain
    line = findings_line(assessed, positives, view, uncertain)
    assessed, positives = [l for l in assessed if l not in uncertain], positives - set(uncertain)
    f, i = target_texts(rep, assessed, positives) if rep is not None else ("", "")
    turns = []
    first = prompt
    if first is None and not synthetic:
        first = rng.choice(DESCRIBE_PROMPTS) if rng.random() < 0.75 else None
    if first is None and AUX and rng.random() < 0.3:
        turns.append((rng.choice(LIST_QS), list_answer(assessed, positives)))
    elif first is None:
        turns.append(question_answer(question_label(assessed + list(uncertain), positives, rng), rep, assessed, positives, rng, uncertain))
    else:
        turns.append((first, describe_answer(f, i)))
    n_follow = follow_ups if follow_ups is not None else (0 if rng.random() < 0.7 else rng.randint(1, 2))
    for _ in range(n_follow):
        r = rng.random()
        if r < 0.25 and i:
            turns.append((IMPRESSION_Q, i))
        elif r < 0.35 and f:
            turns.append((FINDINGS_Q, f))
        elif AUX and r < 0.45:
            turns.append((rng.choice(LIST_QS), list_answer(assessed, positives)))
        else:
            turns.append(question_answer(question_label(assessed + list(uncertain), positives, rng), rep, assessed, positives, rng, uncertain))
    text = render(template, line, turns[0][0])
    spans = []
    for k, (q, a) in enumerate(turns):
        start = len(text)
        text += " " + a.strip()
        nxt = render(turn_template, "", turns[k + 1][0]) if k + 1 < len(turns) else " ###"
        assert nxt.startswith(" ###")
        spans.append((start, len(text) + 4))
        text += nxt
    return text, spans


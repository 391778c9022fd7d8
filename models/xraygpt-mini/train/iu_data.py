"""IU X-ray reports → conditioned training conversations for the report language model.

The findings line mirrors server/src/pipeline/condition.ts findingsLine() exactly:
  "View: frontal. Assessed: Pneumonia positive, Lung Opacity negative."
Labels are CheXpert's 14 observations, mapped from the IU MeSH indexing (MESH_MAP). Only
assessed labels are listed; sentences about labels that were NOT assessed are removed from the
target text, so the model learns never to state an unassessed finding as present or absent.
"""
import csv
import os
import random
import re

from common import DATA

CHEXPERT = [
    "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema",
    "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Pleural Other",
    "Fracture", "Support Devices",
]
# The vision model's findings labels (manifest order) and view labels.
VISION_LABELS = ["Pneumonia"]
VIEW_LABELS = ["frontal", "lateral"]

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
DESCRIBE_PROMPTS = [
    "Describe the given chest x-ray image in detail.",
    "Describe the given chest x-ray image in detail.",
    "Write a radiology report for this chest x-ray.",
    "Summarize the findings of this chest radiograph.",
]
IMPRESSION_Q = "What is the impression?"
FINDINGS_Q = "What are the findings?"


def clean(text):
    return re.sub(r"\s+", " ", (text or "").strip())


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


def load_reports(split):
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
    return out


def findings_line(assessed, positives, view=None):
    """Mirror of condition.ts findingsLine() (labels listed in the given order)."""
    parts = []
    if view is not None:
        parts.append(f"View: {view.lower()}.")
    entries = [f"{l} {'positive' if l in positives else 'negative'}" for l in assessed]
    parts.append(f"Assessed: {', '.join(entries) if entries else 'none'}.")
    return " ".join(parts)


def render(template, findings, prompt):
    """Mirror of condition.ts renderTemplate()."""
    s = template.replace("{findings}", findings).replace("{prompt}", prompt)
    return re.sub(r" {2,}", " ", s)


def sentences(text):
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text) if s.strip()]


def mentions(sentence):
    low = sentence.lower()
    return {l for l, kws in KEYWORDS.items() if any(k in low for k in kws)}


def filter_text(text, assessed, positives):
    """Keep sentences that mention no unassessed label, or that mention an assessed positive."""
    keep = []
    a = set(assessed)
    for s in sentences(text):
        m = mentions(s)
        if not (m - a) or (m & a & positives):
            keep.append(s)
    return " ".join(keep)


ORDER_POSITIVES = os.environ.get("LM_ORDER", "1") == "1"


def order_positives_first(text, assessed, positives):
    """Moves the sentences about assessed positive labels to the front (stable), so the answer
    starts with what the findings line says is present: a direct, early conditioning signal."""
    if not ORDER_POSITIVES:
        return text
    hot = set(assessed) & set(positives)
    ss = sentences(text)
    first = [s for s in ss if mentions(s) & hot]
    return " ".join(first + [s for s in ss if not (mentions(s) & hot)])


def describe_answer(findings, impression):
    parts = []
    if findings:
        parts.append(f"Findings: {findings}")
    if impression:
        parts.append(f"Impression: {impression}")
    return " ".join(parts)


def question_answer(label, rep, assessed, positives, rng):
    qs, phrase, neg_phrase, title = QUESTIONS[label]
    q = rng.choice(qs)
    if label not in assessed:
        return q, f"{title} was not assessed."
    text = " ".join([rep["findings"], rep["impression"]])
    hit = [s for s in sentences(text) if label in mentions(s)]
    if label in positives:
        return q, (f"Yes. {hit[0]}" if hit else f"Yes, there is {phrase}.")
    if label == "Cardiomegaly":
        neg = [s for s in hit if "normal" in s.lower() or "within" in s.lower()]
        return q, (neg[0] if neg else "The heart size is normal.")
    return q, f"No, there is no {neg_phrase}."


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


def make_conversation(rep, template, turn_template, rng, assessed=None, prompt=None, follow_ups=None):
    """Returns (text, spans): the conversation exactly as the daemon builds it (first turn from
    `template`, follow-ups as condition.ts followUpText: " " + answer + turn_template), and the
    character spans the model is trained to produce: each answer plus the "###" stop after it."""
    if assessed is None:
        assessed = sample_assessed(rep, rng)
    positives = rep["labels"]
    view = rng.choice(rep["views"] + [None]) if rng.random() < 0.8 else None
    line = findings_line(assessed, positives, view)
    f = order_positives_first(filter_text(rep["findings"], assessed, positives), assessed, positives)
    i = filter_text(rep["impression"], assessed, positives)
    if not f and not i:
        i = "No acute abnormality among the assessed findings."
    turns = []
    first = prompt
    if first is None:
        first = rng.choice(DESCRIBE_PROMPTS) if rng.random() < 0.75 else None
    if first is None:
        label = rng.choice(sorted(QUESTIONS))
        turns.append(question_answer(label, rep, assessed, positives, rng))
    else:
        turns.append((first, describe_answer(f, i)))
    n_follow = follow_ups if follow_ups is not None else (0 if rng.random() < 0.7 else rng.randint(1, 2))
    for _ in range(n_follow):
        r = rng.random()
        if r < 0.25 and i:
            turns.append((IMPRESSION_Q, i))
        elif r < 0.35 and f:
            turns.append((FINDINGS_Q, f))
        else:
            label = rng.choice(sorted(QUESTIONS))
            turns.append(question_answer(label, rep, assessed, positives, rng))
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

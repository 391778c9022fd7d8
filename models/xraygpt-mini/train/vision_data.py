"""Data for vision v2: NIH ChestX-ray14 (two subsets), COVID-CXR and PneumoniaMNIST, each image
brought to the model's input size through the daemon's preprocess (preprocess.py, bit for bit the
same resize as server/src/pipeline/preprocess.ts), cached in work/vision-cache.npz.

Patient folds and the COVID-CXR holdout are FNV-1a hashes of the patient id, so the TypeScript
evaluation (server/src/eval/vision-eval.ts) reproduces them without a shared file:
  NIH fold      = fnv1a32(patient) % 5           (train split; val is never trained on)
  COVID holdout = fnv1a32("covid:" + patientid) % 5 == 0
"""
import csv
import os

import numpy as np
from PIL import Image

from common import DATA, WORK
from preprocess import quantize
from preprocess import resize_area_fast as resize_batch  # batched: [N, H, W]

SIZE = 128
LOW = 64  # the nih-64 subset's size: NIH 512 px images are also cached degraded through it
FOLDS = 5
# Findings outputs, in CheXpert order (iu_data.CHEXPERT), and the NIH labels each one reads.
VISION_LABELS = ["Cardiomegaly", "Lung Opacity", "Lung Lesion", "Edema", "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion"]
NIH_MAP = {
    "Cardiomegaly": ["Cardiomegaly"], "Lung Opacity": ["Infiltration"], "Lung Lesion": ["Mass", "Nodule"], "Edema": ["Edema"],
    "Consolidation": ["Consolidation"], "Pneumonia": ["Pneumonia"], "Atelectasis": ["Atelectasis"], "Pneumothorax": ["Pneumothorax"],
    "Pleural Effusion": ["Effusion"],
}
VIEW_LABELS = ["frontal", "lateral"]
# Auxiliary training targets (not outputs): the NIH labels no output reads, Mass and Nodule apart,
# and "any finding" (the nih-64 subset is a normal/abnormal balanced one).
AUX_LABELS = ["Emphysema", "Fibrosis", "Pleural_Thickening", "Hernia", "Mass", "Nodule", "any"]
NIH_ALL = ["Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule", "Pneumonia", "Pneumothorax",
           "Consolidation", "Edema", "Emphysema", "Fibrosis", "Pleural_Thickening", "Hernia"]


def fnv1a32(s):
    h = 0x811C9DC5
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def grey_of(path):
    return np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0


def to_size(grey):
    q = quantize(grey)
    return resize_batch(q[None], SIZE, SIZE)[0]


def degrade(grey):
    """512 px → 64 px (8-bit, as the nih-64 PNGs are) → model size: what the 64 px subset looks like."""
    q = quantize(grey)
    low = resize_batch(q[None], LOW, LOW)[0]
    low = np.floor(low + 0.5)  # stored as 8-bit
    return resize_batch(low[None], SIZE, SIZE)[0]


def load_nih():
    root = os.path.join(DATA, "nih-cxr14")
    rows = list(csv.DictReader(open(os.path.join(root, "labels.csv"), newline="")))
    img, low, y, aux, meta = [], [], [], [], []
    for r in rows:
        g = grey_of(os.path.join(root, "images", r["filename"]))
        img.append(to_size(g).astype(np.float32))
        low.append(degrade(g).astype(np.float32) if g.shape[0] > LOW else img[-1])
        y.append([max(int(r[k]) for k in NIH_MAP[l]) for l in VISION_LABELS])
        aux.append([max(int(r[k]) for k in NIH_ALL) if l == "any" else int(r[l]) for l in AUX_LABELS])
        meta.append((r["filename"], r["patient"], r["source"], r["split"]))
    return np.stack(img), np.stack(low), np.array(y, dtype=np.float32), np.array(aux, dtype=np.float32), meta


def covid_finding(f):
    """COVID-CXR diagnosis → Pneumonia label (1, 0) or None (unknown). Everything but "No Finding"
    and "todo" in this collection is a pneumonia (viral, bacterial, fungal, lipoid) or ARDS."""
    f = f.strip()
    if f in ("", "todo"):
        return None
    if f == "No Finding":
        return 0
    return 1


def load_covid():
    root = os.path.join(DATA, "covid-cxr")
    rows = list(csv.DictReader(open(os.path.join(root, "metadata.csv"), newline="")))
    img, view, pneu, held, pats = [], [], [], [], []
    for r in rows:
        v = r["view"].strip()
        if v in ("PA", "AP", "AP Supine"):
            vi = 0
        elif v == "L":
            vi = 1
        else:
            vi = -1
        path = os.path.join(root, "images", r["filename"])
        if not os.path.exists(path):
            continue
        img.append(to_size(grey_of(path)).astype(np.float32))
        view.append(vi)
        p = covid_finding(r["finding"])
        pneu.append(-1 if p is None else p)
        held.append(fnv1a32("covid:" + r["patientid"]) % 5 == 0)
        pats.append(r["patientid"])
    return np.stack(img), np.array(view), np.array(pneu), np.array(held), pats


def load_pmnist():
    d = np.load(os.path.join(DATA, "pneumoniamnist", "pneumoniamnist.npz"))
    out = {}
    for s in ("train", "val"):
        q = d[f"{s}_images"].astype(np.float64)
        out[s] = (resize_batch(q, SIZE, SIZE).astype(np.float32), d[f"{s}_labels"].reshape(-1).astype(np.float32))
    return out


def load_all():
    path = os.path.join(WORK, f"vision-cache-{SIZE}-aux.npz")
    if os.path.exists(path):
        z = np.load(path, allow_pickle=True)
        return {k: z[k] for k in z.files}
    nimg, nlow, ny, naux, nmeta = load_nih()
    cimg, cview, cpneu, cheld, cpats = load_covid()
    pm = load_pmnist()
    data = {
        "nih_img": nimg, "nih_low": nlow, "nih_y": ny, "nih_aux": naux, "nih_meta": np.array(nmeta),
        "cov_img": cimg, "cov_view": cview, "cov_pneu": cpneu, "cov_held": cheld,
        "pm_tr_img": pm["train"][0], "pm_tr_y": pm["train"][1], "pm_va_img": pm["val"][0], "pm_va_y": pm["val"][1],
    }
    np.savez(path, **data)
    return data

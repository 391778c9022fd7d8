"""Vision encoder: a small CNN ensemble on 28x28 grey radiographs, exported to ONNX.

Heads: "findings" (1 logit, Pneumonia, sigmoid) trained on PneumoniaMNIST train;
"view" (2 logits, frontal/lateral, softmax) trained on COVID-CXR views + PneumoniaMNIST (frontal).
Model selection/threshold: PneumoniaMNIST val. Writes models/xraygpt-mini/vision.onnx and
work/vision.json (input spec, threshold, val figures).
"""
import csv
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from common import DATA, MODEL_DIR, ensure_work, seed_all
from preprocess import normalize_uint8, preprocess_fast

SIZE = 28
N_MODELS = int(os.environ.get("VISION_MODELS", "3"))
EPOCHS = int(os.environ.get("VISION_EPOCHS", "18"))


def block(i, o):
    return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))


class Net(nn.Module):
    def __init__(self, w=24):
        super().__init__()
        self.body = nn.Sequential(
            block(1, w), block(w, w), nn.MaxPool2d(2),
            block(w, 2 * w), block(2 * w, 2 * w), nn.MaxPool2d(2),
            block(2 * w, 4 * w), block(4 * w, 4 * w),
        )
        self.drop = nn.Dropout(0.3)
        self.findings = nn.Linear(4 * w, 1)
        self.view = nn.Linear(4 * w, 2)

    def forward(self, x):
        h = self.body(x)
        h = h.mean((2, 3))
        h = self.drop(h)
        return self.findings(h), self.view(h)


class Ensemble(nn.Module):
    """Averages the members' logits; the daemon applies sigmoid / softmax."""

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, image):
        outs = [m(image) for m in self.members]
        f = torch.stack([o[0] for o in outs]).mean(0)
        v = torch.stack([o[1] for o in outs]).mean(0)
        return f, v


def load_covid_views():
    """COVID-CXR adult images with a known view → (images [N,28,28] float32 normalized later, view, patient)."""
    root = os.path.join(DATA, "covid-cxr")
    rows = list(csv.DictReader(open(os.path.join(root, "metadata.csv"), newline="")))
    imgs, views, pats = [], [], []
    for r in rows:
        v = r["view"].strip()
        if v in ("PA", "AP", "AP Supine"):
            view = 0
        elif v == "L":
            view = 1
        else:
            continue
        path = os.path.join(root, "images", r["filename"])
        if not os.path.exists(path):
            continue
        grey = np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0
        imgs.append(preprocess_fast(grey.astype(np.float32), SIZE, SIZE, 1, [0.0], [1.0])[0] * 255.0)
        views.append(view)
        pats.append(r["patientid"])
    return np.stack(imgs).astype(np.float64), np.array(views), np.array(pats)


def auc(y, p):
    order = np.argsort(p, kind="mergesort")
    y = y[order]
    p = p[order]
    ranks = np.empty(len(p))
    i = 0
    while i < len(p):  # average ranks for ties
        j = i
        while j + 1 < len(p) and p[j + 1] == p[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2 + 1
        i = j + 1
    npos = y.sum()
    nneg = len(y) - npos
    return (ranks[y == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg)


def augment(x, gen):
    n = x.shape[0]
    ang = (torch.rand(n, generator=gen) - 0.5) * 2 * (10 * np.pi / 180)
    sc = 1 + (torch.rand(n, generator=gen) - 0.5) * 0.2
    tx = (torch.rand(n, 2, generator=gen) - 0.5) * 2 * (2.5 / 14)
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos * flip, -sin, tx[:, 0]], 1), torch.stack([sin * flip, cos, tx[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    gain = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.3
    bias = (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.3
    return out * gain + bias


def main():
    work = ensure_work()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    d = np.load(os.path.join(DATA, "pneumoniamnist", "pneumoniamnist.npz"))
    tr_img, tr_y = d["train_images"], d["train_labels"].reshape(-1).astype(np.float32)
    va_img, va_y = d["val_images"], d["val_labels"].reshape(-1).astype(np.float32)
    mean = float(np.round(tr_img.mean() / 255, 4))
    std = float(np.round(tr_img.std() / 255, 4))
    print(f"pneumoniamnist train {len(tr_y)} (pos {tr_y.mean():.3f}) val {len(va_y)}; mean {mean} std {std}", flush=True)
    xtr = torch.from_numpy(normalize_uint8(tr_img, mean, std))
    xva = torch.from_numpy(normalize_uint8(va_img, mean, std))
    cimg, cview, cpat = load_covid_views()
    cx = torch.from_numpy(((cimg / 255 - mean) / std).astype(np.float32)[:, None])
    # Patient-level split of COVID-CXR for a view-head check.
    upats = sorted(set(cpat.tolist()))
    rs = np.random.RandomState(0)
    held = set(rs.choice(upats, size=len(upats) // 5, replace=False).tolist())
    cva = np.array([p in held for p in cpat])
    print(f"covid-cxr view images {len(cview)} (lateral {int(cview.sum())}); view-val {int(cva.sum())}", flush=True)
    cx_tr, cv_tr = cx[~cva], torch.from_numpy(cview[~cva])
    # Oversample laterals so the view head sees them.
    lat = torch.nonzero(cv_tr == 1).reshape(-1)
    cx_tr = torch.cat([cx_tr] + [cx_tr[lat]] * 4)
    cv_tr = torch.cat([cv_tr] + [cv_tr[lat]] * 4)

    x_all = torch.cat([xtr, cx_tr])
    y_all = torch.cat([torch.from_numpy(tr_y), torch.zeros(len(cx_tr))])
    fmask = torch.cat([torch.ones(len(xtr)), torch.zeros(len(cx_tr))])
    v_all = torch.cat([torch.zeros(len(xtr), dtype=torch.long), cv_tr.long()])
    pos_weight = torch.tensor([(1 - tr_y.mean()) / tr_y.mean()])

    members, report = [], []
    for m in range(N_MODELS):
        seed_all(100 + m)
        gen = torch.Generator().manual_seed(100 + m)
        net = Net()
        opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=5e-4)
        steps = EPOCHS * ((len(x_all) + 127) // 128)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.2)
        best, best_state = -1.0, None
        t0 = time.time()
        for ep in range(EPOCHS):
            net.train()
            perm = torch.randperm(len(x_all), generator=gen)
            for i in range(0, len(perm), 128):
                idx = perm[i : i + 128]
                xb = augment(x_all[idx], gen)
                f, v = net(xb)
                lf = (F.binary_cross_entropy_with_logits(f[:, 0], y_all[idx], pos_weight=pos_weight, reduction="none") * fmask[idx]).sum() / fmask[idx].sum().clamp(min=1)
                lv = F.cross_entropy(v, v_all[idx], weight=torch.tensor([1.0, 3.0]))
                loss = lf + 0.3 * lv
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
            net.eval()
            with torch.no_grad():
                pv = torch.sigmoid(net(xva)[0][:, 0]).numpy()
            a = auc(va_y, pv)
            if ep >= EPOCHS // 2 and a >= best:
                best, best_state = a, {k: t.clone() for k, t in net.state_dict().items()}
            print(f"model {m} epoch {ep + 1}/{EPOCHS} val AUC {a:.4f} ({time.time() - t0:.0f}s)", flush=True)
        net.load_state_dict(best_state)
        net.eval()
        members.append(net)
        report.append(best)

    ens = Ensemble(members).eval()
    with torch.no_grad():
        pv = torch.sigmoid(ens(xva)[0][:, 0]).numpy()
        vv = ens(cx[cva])[1].argmax(1).numpy()
    a = auc(va_y, pv)
    # Threshold: maximize balanced accuracy on val (robust to the class-prior shift of the test split).
    cands = np.unique(np.round(pv, 3))
    bal = [(((pv >= t) & (va_y == 1)).sum() / (va_y == 1).sum() + ((pv < t) & (va_y == 0)).sum() / (va_y == 0).sum()) / 2 for t in cands]
    thr = round(float(cands[int(np.argmax(bal))]), 3)
    acc = float(((pv >= thr) == (va_y == 1)).mean())
    acc05 = float(((pv >= 0.5) == (va_y == 1)).mean())
    view_acc = float((vv == cview[cva]).mean())
    print(f"ensemble val AUC {a:.4f} ACC@{thr} {acc:.4f} ACC@0.5 {acc05:.4f}; view acc (covid held-out patients) {view_acc:.4f}", flush=True)

    dummy = torch.zeros(1, 1, SIZE, SIZE)
    out = os.path.join(MODEL_DIR, "vision.onnx")
    torch.onnx.export(ens, dummy, out, input_names=["image"], output_names=["findings", "view"],
                      dynamic_axes={"image": {0: "batch"}, "findings": {0: "batch"}, "view": {0: "batch"}}, opset_version=17)
    # Reference outputs for the ORT parity test: a few val images.
    ref_idx = list(range(8))
    with torch.no_grad():
        rf, rv = ens(xva[ref_idx])
    info = {
        "input": {"name": "image", "width": SIZE, "height": SIZE, "channels": 1, "mean": [mean], "std": [std]},
        "threshold": thr,
        "val": {"auc": a, "acc": acc, "acc_at_0.5": acc05, "members_auc": report, "view_acc": view_acc},
        "params": sum(p.numel() for p in ens.parameters()),
    }
    json.dump(info, open(os.path.join(work, "vision.json"), "w"), indent=1)
    fixture = {"images": va_img[ref_idx].tolist(), "findings": rf.numpy().tolist(), "view": rv.numpy().tolist()}
    json.dump(fixture, open(os.path.join(MODEL_DIR, "train", "vision-parity.json"), "w"))
    print(json.dumps(info), flush=True)


if __name__ == "__main__":
    sys.exit(main())

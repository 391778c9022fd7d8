"""Vision v2: a CNN ensemble on 128x128 grey radiographs, exported to ONNX.

Heads: "findings" (9 logits, VISION_LABELS, sigmoid) and "view" (frontal/lateral, softmax).
Data (vision_data.py): NIH ChestX-ray14 train split (both subsets), COVID-CXR (Pneumonia from the
diagnosis, views; patients outside the holdout), PneumoniaMNIST train (Pneumonia). Label masks
where a set has no label for an observation.

Model selection: 5-fold cross-validation by patient over the NIH train split; member k is trained
without fold k, and its predictions on fold k are the out-of-fold (OOF) figures. The product model
is the ensemble of the 5 members (mean of logits). NIH val is never trained on or tuned on.
Operating thresholds are chosen on the pooled OOF predictions (the micro F1 over the 7 observations
the summaries are scored on, joint_micro_thresholds; per-label F1 for the others) and folded into
the exported logits (logit - logit(threshold)), so 0.5 is every label's operating point.
VISION_RESUME=1 reuses finished members from work/ (e.g. to re-export with another threshold rule).
Against the subset/label confound (the 512 px and 64 px NIH subsets carry different label mixes),
NIH 512 px images are shown half the time degraded through 64 px, so resolution does not tell the
sources apart, and the figures are computed within each source.

Writes models/xraygpt-mini/vision.onnx (also output "members": each member's calibrated logits,
for the OOF evaluation), work/vision.json and train/vision-parity.json.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import MODEL_DIR, ensure_work, seed_all
from vision_data import AUX_LABELS, FOLDS, SIZE, VIEW_LABELS, VISION_LABELS, fnv1a32, load_all

EPOCHS = int(os.environ.get("VISION_EPOCHS", "16"))
BATCH = 64
SMOKE = os.environ.get("VISION_SMOKE") == "1"
RESUME = os.environ.get("VISION_RESUME") == "1"
PM_PER_EPOCH = 32 if SMOKE else int(os.environ.get("VISION_PM", "1500"))
# VISION_EMA=d: each member is the exponential moving average (decay d per step) of its weights
# and batch-norm statistics over training (0: the last weights).
EMA = float(os.environ.get("VISION_EMA", "0"))
# VISION_INORM=1: each image standardized (its own mean and deviation) inside the network.
INORM = os.environ.get("VISION_INORM") == "1"
# VISION_AUX=w: weight of a loss on auxiliary NIH targets (AUX_LABELS) from a head the export drops.
AUX = float(os.environ.get("VISION_AUX", "0"))
# VISION_TAG=t: a trial; its members and json go to work/ under the tag, the shipped model is untouched.
TAG = os.environ.get("VISION_TAG", "")
# VISION_SEEDS=n: n members per fold (seeds 200+k, 300+k, ...); a fold's out-of-fold logits are
# their mean, and so is its entry of the ONNX "members" output.
SEEDS = int(os.environ.get("VISION_SEEDS", "1"))
L = len(VISION_LABELS)


def member_path(work, k, s, tag=TAG):
    """Where fold k's member of seed index s is saved."""
    return os.path.join(work, f"vision-member{tag}{k}{'' if s == 0 else f'-s{s}'}.pt")


def block(i, o, s=1, k=3):
    return nn.Sequential(nn.Conv2d(i, o, k, stride=s, padding=k // 2, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))


class Net(nn.Module):
    def __init__(self, w=16, inorm=INORM, aux=len(AUX_LABELS) if AUX > 0 else 0):
        super().__init__()
        self.inorm = inorm
        self.body = nn.Sequential(
            block(1, w, 2, 5), nn.MaxPool2d(2),
            block(w, 2 * w), block(2 * w, 2 * w), nn.MaxPool2d(2),
            block(2 * w, 4 * w), block(4 * w, 4 * w), nn.MaxPool2d(2),
            block(4 * w, 8 * w),
        )
        self.drop = nn.Dropout(0.3)
        self.findings = nn.Linear(8 * w, L)
        self.view = nn.Linear(8 * w, 2)
        self.aux = nn.Linear(8 * w, aux) if aux else None

    def forward(self, x):
        if self.inorm:
            x = (x - x.mean((1, 2, 3), keepdim=True)) / (x.std((1, 2, 3), keepdim=True) + 1e-3)
        h = self.drop(self.body(x).mean((2, 3)))
        return self.findings(h), self.view(h), (self.aux(h) if self.aux is not None else h[:, :0])


class Ensemble(nn.Module):
    """Mean of the members' logits, each shifted by the label's operating-point logit. Members are
    in fold order, `per_fold` of each fold; the third output is each fold's mean [B, FOLDS, L]."""

    def __init__(self, members, shift, per_fold=1):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.per_fold = per_fold
        self.register_buffer("shift", torch.tensor(shift, dtype=torch.float32))

    def forward(self, image):
        outs = [m(image) for m in self.members]
        each = torch.stack([o[0] for o in outs], 1) - self.shift  # [B, M, L]
        folds = each.reshape(each.shape[0], -1, self.per_fold, each.shape[2]).mean(2) if self.per_fold > 1 else each
        return each.mean(1), torch.stack([o[1] for o in outs]).mean(0), folds


def auc(y, p):
    y = np.asarray(y)
    p = np.asarray(p, dtype=np.float64)
    npos = int(y.sum())
    nneg = len(y) - npos
    if npos == 0 or nneg == 0:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    ps = p[order]
    ranks = np.empty(len(p))
    i = 0
    while i < len(p):
        j = i
        while j + 1 < len(p) and ps[j + 1] == ps[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return (ranks[y == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg)


def augment(x, gen):
    n = x.shape[0]
    ang = (torch.rand(n, generator=gen) - 0.5) * 2 * (8 * np.pi / 180)
    sc = 1 + (torch.rand(n, generator=gen) - 0.5) * 0.2
    tx = (torch.rand(n, 2, generator=gen) - 0.5) * 2 * 0.06
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos, -sin, tx[:, 0]], 1), torch.stack([sin, cos, tx[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    gain = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.3
    bias = (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.3
    return out * gain + bias


def within_source_auc(y, p, src):
    """{(source, label): auc} for pairs with >= 8 positives and their mean."""
    res = {}
    for s in sorted(set(src)):
        m = src == s
        for j, l in enumerate(VISION_LABELS):
            if y[m, j].sum() >= 8:
                res[(s, l)] = auc(y[m, j], p[m, j])
    return res, float(np.mean(list(res.values()))) if res else float("nan")


def best_f1_threshold(y, p):
    best = (0.0, 0.5)
    for t in np.unique(np.round(p, 3)):
        pred = p >= t
        tp = (pred & (y == 1)).sum()
        f1 = 2 * tp / max(1, pred.sum() + (y == 1).sum())
        if f1 > best[0]:
            best = (f1, float(t))
    return best


# The observations the summaries' text is scored on (the issue's 7).
TEXT_LABELS = ["Atelectasis", "Cardiomegaly", "Pleural Effusion", "Lung Opacity", "Pneumonia", "Consolidation", "Edema"]


def f1_at(y, pred):
    tp = (pred & (y == 1)).sum()
    return 2 * tp / max(1, pred.sum() + (y == 1).sum())


def micro_f1(y, p, thresholds):
    tp = fp = fn = 0
    for l in TEXT_LABELS:
        j = VISION_LABELS.index(l)
        pred = p[:, j] >= thresholds[j]
        tp += (pred & (y[:, j] == 1)).sum()
        fp += (pred & (y[:, j] == 0)).sum()
        fn += (~pred & (y[:, j] == 1)).sum()
    return 2 * tp / max(1, 2 * tp + fp + fn)


def joint_micro_thresholds(y, p, thresholds):
    """The summaries state every positive, and their text is scored by micro F1 over TEXT_LABELS:
    coordinate ascent on that micro F1 over the out-of-fold predictions (a label with a weak
    signal gets a high threshold and is rarely called, rather than called on every image). The
    other labels keep their per-label F1-optimal threshold."""
    th = list(thresholds)
    grid = [round(x, 3) for x in np.linspace(0.02, 0.98, 97)]
    for _ in range(3):
        for l in TEXT_LABELS:
            j = VISION_LABELS.index(l)
            best = (micro_f1(y, p, th), th[j])
            for t in grid:
                cand = th[:j] + [t] + th[j + 1 :]
                f = micro_f1(y, p, cand)
                if f > best[0] + 1e-12:
                    best = (f, t)
            th[j] = best[1]
    return th


def main():
    work = ensure_work()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    t_start = time.time()
    d = load_all()
    print(f"data loaded ({time.time() - t_start:.0f}s)", flush=True)
    meta = d["nih_meta"]
    src = meta[:, 2]
    split = meta[:, 3]
    fold = np.array([fnv1a32(p) % FOLDS for p in meta[:, 1]])
    tr = split == "train"
    va = split == "val"
    mean = float(np.round(d["nih_img"][tr].mean() / 255, 4))
    std = float(np.round(d["nih_img"][tr].std() / 255, 4))
    norm = lambda a: torch.from_numpy(((a.astype(np.float64) / 255 - mean) / std).astype(np.float32))[:, None]
    nx, nlow, ny = norm(d["nih_img"]), norm(d["nih_low"]), torch.from_numpy(d["nih_y"])
    naux = torch.from_numpy(d["nih_aux"])
    A = len(AUX_LABELS)
    hi_res = torch.from_numpy(src == "nih-1024")
    cx = norm(d["cov_img"])
    cview, cpneu, cheld = d["cov_view"], d["cov_pneu"], d["cov_held"]
    pmx, pmy = norm(d["pm_tr_img"]), torch.from_numpy(d["pm_tr_y"])
    pvx, pvy = norm(d["pm_va_img"]), d["pm_va_y"]
    print(f"NIH train {tr.sum()} val {va.sum()}; covid {len(cx)} (holdout {cheld.sum()}); pmnist {len(pmx)}; mean {mean} std {std}", flush=True)
    pos = d["nih_y"][tr].mean(0)
    pos_weight = torch.tensor(np.clip(np.sqrt((1 - pos) / pos), 1, 6), dtype=torch.float32)
    print("pos_weight", dict(zip(VISION_LABELS, np.round(pos_weight.numpy(), 2).tolist())), flush=True)

    # COVID-CXR rows (outside the holdout): findings target Pneumonia only; view target when known.
    c_idx = np.nonzero(~cheld)[0]
    lat = c_idx[cview[c_idx] == 1]
    c_rows = np.concatenate([c_idx, lat, lat, lat])  # laterals oversampled
    if SMOKE:
        c_rows = c_rows[:: 8]
    cy = torch.zeros(len(cx), L)
    cm = torch.zeros(len(cx), L)
    pj = VISION_LABELS.index("Pneumonia")
    for i in range(len(cx)):
        if cpneu[i] == 0:  # "No Finding": every observation negative
            cm[i] = 1
        elif cpneu[i] == 1:
            cy[i, pj] = 1
            cm[i, pj] = 1
    pm_mask = torch.zeros(L)
    pm_mask[pj] = 1

    members, oof = [], np.full((len(ny), L), np.nan)
    history = []
    oof1 = oof.copy()
    for k, si in [(k, si) for k in range(FOLDS) for si in range(SEEDS)]:
        seed_all(200 + 100 * si + k)
        gen = torch.Generator().manual_seed(200 + 100 * si + k)
        n_idx = np.nonzero(tr & (fold != k))[0]
        h_idx = np.nonzero(tr & (fold == k))[0]
        if SMOKE:  # end-to-end check of the script in a minute
            n_idx = n_idx[:64]
        net = Net()
        opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-3)
        per_epoch = len(n_idx) + len(c_rows) + PM_PER_EPOCH
        steps = EPOCHS * ((per_epoch + BATCH - 1) // BATCH)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.2)
        t0 = time.time()
        saved = member_path(work, k, si)
        done = RESUME and os.path.exists(saved)  # VISION_RESUME=1: reuse members a stopped run finished
        if done:
            net.load_state_dict(torch.load(saved))
            print(f"fold {k}: member loaded from {saved}", flush=True)
        ema = {k_: v_.detach().clone() for k_, v_ in net.state_dict().items()} if EMA > 0 and not done else None
        for ep in range(0 if done else EPOCHS):
            net.train()
            pm_pick = torch.randperm(len(pmx), generator=gen)[:PM_PER_EPOCH]
            # Each epoch's pool: (dataset 0 NIH / 1 COVID / 2 PneumoniaMNIST, row).
            pool = np.concatenate([np.stack([np.zeros(len(n_idx), int), n_idx], 1), np.stack([np.ones(len(c_rows), int), c_rows], 1),
                                   np.stack([np.full(PM_PER_EPOCH, 2), pm_pick.numpy()], 1)])
            pool = pool[torch.randperm(len(pool), generator=gen).numpy()]
            for b in range(0, len(pool), BATCH):
                part = pool[b : b + BATCH]
                xs, ys, ms, vs, ws, az, am = [], [], [], [], [], [], []
                for ds, i in part:
                    az.append(naux[i] if ds == 0 else torch.zeros(A)); am.append(float(ds == 0))
                    if ds == 0:
                        degrade = bool(hi_res[i]) and torch.rand(1, generator=gen).item() < 0.5
                        xs.append((nlow if degrade else nx)[i]); ys.append(ny[i]); ms.append(torch.ones(L)); vs.append(0); ws.append(1.0)
                    elif ds == 1:
                        xs.append(cx[i]); ys.append(cy[i]); ms.append(cm[i]); vs.append(int(cview[i])); ws.append(0.5)
                    else:
                        y = torch.zeros(L); y[pj] = pmy[i]
                        xs.append(pmx[i]); ys.append(y); ms.append(pm_mask); vs.append(0); ws.append(1.0)
                xb = augment(torch.stack(xs), gen)
                yb, mb, wb = torch.stack(ys), torch.stack(ms), torch.tensor(ws)[:, None]
                vb = torch.tensor(vs)
                f, v, a = net(xb)
                lf = F.binary_cross_entropy_with_logits(f, yb, pos_weight=pos_weight, reduction="none") * mb * wb
                lf = lf.sum() / (mb * wb).sum().clamp(min=1)
                vm = vb >= 0
                lv = F.cross_entropy(v[vm], vb[vm], weight=torch.tensor([1.0, 3.0])) if vm.any() else 0.0
                loss = lf + 0.2 * lv
                if AUX > 0:
                    amb = torch.tensor(am)[:, None].expand(-1, A)
                    la = F.binary_cross_entropy_with_logits(a, torch.stack(az), reduction="none") * amb
                    loss = loss + AUX * la.sum() / amb.sum().clamp(min=1)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                if ema is not None:
                    with torch.no_grad():
                        for k_, v_ in net.state_dict().items():
                            if v_.dtype.is_floating_point:
                                ema[k_].mul_(EMA).add_(v_, alpha=1 - EMA)
                            else:
                                ema[k_].copy_(v_)
            if ema is not None:  # evaluate (and keep) the averaged weights
                trained = {k_: v_.clone() for k_, v_ in net.state_dict().items()}
                net.load_state_dict(ema)
            net.eval()
            with torch.no_grad():
                ph = torch.sigmoid(net(nx[h_idx])[0]).numpy()
            _, m_auc = within_source_auc(d["nih_y"][h_idx], ph, src[h_idx])
            if ema is not None and ep + 1 < EPOCHS:
                net.load_state_dict(trained)
            history.append({"fold": k, "seed": si, "epoch": ep + 1, "heldout_within_source_auc": m_auc})
            print(f"fold {k} seed {si} epoch {ep + 1}/{EPOCHS} held-out fold within-source mean AUC {m_auc:.4f} ({time.time() - t0:.0f}s)", flush=True)
        net.eval()
        with torch.no_grad():
            logits = net(nx[h_idx])[0].numpy()
        oof[h_idx] = logits if si == 0 else (oof[h_idx] * si + logits) / (si + 1)
        if si == 0:
            oof1[h_idx] = logits
        members.append(net)
        torch.save(net.state_dict(), saved)

    ytr = d["nih_y"][tr]
    poof = 1 / (1 + np.exp(-oof[tr]))
    per_pair, m_oof = within_source_auc(ytr, poof, src[tr])
    _, m_oof1 = within_source_auc(ytr, 1 / (1 + np.exp(-oof1[tr])), src[tr])
    print(f"OOF within-source mean AUC of the first seed's members alone {m_oof1:.4f}", flush=True)
    print(f"OOF within-source mean AUC {m_oof:.4f}", {f"{s}/{l}": round(a, 3) for (s, l), a in per_pair.items()}, flush=True)
    thresholds = []
    for j, l in enumerate(VISION_LABELS):
        _, t = best_f1_threshold(ytr[:, j], poof[:, j])
        thresholds.append(min(max(t, 0.02), 0.98))
    thresholds = joint_micro_thresholds(ytr, poof, thresholds)
    f1s = [f1_at(ytr[:, j], poof[:, j] >= thresholds[j]) for j in range(L)]
    print(f"OOF micro F1 over the text observations at these thresholds {micro_f1(ytr, poof, thresholds):.3f}", flush=True)
    print("thresholds", dict(zip(VISION_LABELS, thresholds)), "OOF F1", dict(zip(VISION_LABELS, np.round(f1s, 3).tolist())), flush=True)
    shift = [float(np.log(t / (1 - t))) for t in thresholds]
    ens = Ensemble(members, shift, SEEDS).eval()
    with torch.no_grad():
        fv, _, _ = ens(nx[va])
        pv = torch.sigmoid(fv).numpy()
        pmv = torch.sigmoid(ens(pvx)[0][:, pj]).numpy()
        vv = ens(cx[cheld & (cview >= 0)])[1].argmax(1).numpy()
    val_pairs, val_m = within_source_auc(d["nih_y"][va], pv, src[va])
    pm_auc = auc(pvy, pmv)
    view_acc = float((vv == cview[cheld & (cview >= 0)]).mean())
    print(f"ensemble NIH val within-source mean AUC {val_m:.4f}; PneumoniaMNIST val AUC {pm_auc:.4f}; covid holdout view acc {view_acc:.4f}", flush=True)

    info = {
        "input": {"name": "image", "width": SIZE, "height": SIZE, "channels": 1, "mean": [mean], "std": [std]},
        "labels": VISION_LABELS, "view_labels": VIEW_LABELS, "thresholds": dict(zip(VISION_LABELS, thresholds)),
        "oof": {"within_source_mean_auc": m_oof, "first_seed_within_source_mean_auc": m_oof1, "pairs": {f"{s}/{l}": a for (s, l), a in per_pair.items()}, "f1": dict(zip(VISION_LABELS, f1s))},
        "val": {"within_source_mean_auc": val_m, "pairs": {f"{s}/{l}": a for (s, l), a in val_pairs.items()}},
        "pmnist_val_auc": pm_auc, "covid_view_acc": view_acc, "history": history,
        "recipe": {"tag": TAG, "epochs": EPOCHS, "seeds": SEEDS, "ema": EMA, "inorm": INORM, "aux": AUX, "pm_per_epoch": PM_PER_EPOCH},
        "epochs": EPOCHS, "seeds": SEEDS, "params": sum(p.numel() for p in ens.parameters()), "seconds": time.time() - t_start,
    }
    print(json.dumps({k: v for k, v in info.items() if k != "history"}), flush=True)
    if TAG:  # a trial: nothing of the shipped model is written
        json.dump(info, open(os.path.join(work, f"vision{TAG}.json"), "w"), indent=1)
        return 0
    dummy = torch.zeros(1, 1, SIZE, SIZE)
    out = os.path.join(MODEL_DIR, "vision.onnx")
    torch.onnx.export(ens, dummy, out, input_names=["image"], output_names=["findings", "view", "members"],
                      dynamic_axes={"image": {0: "batch"}, "findings": {0: "batch"}, "view": {0: "batch"}, "members": {0: "batch"}}, opset_version=17)
    # Parity fixture: 3 NIH val images (raw 8-bit pixels at model size, so the test can feed them
    # through preprocess) and PyTorch's outputs.
    ref_idx = np.nonzero(va)[0][:3]
    imgs = np.floor(d["nih_img"][ref_idx].astype(np.float64) + 0.5)  # 8-bit images at model size
    with torch.no_grad():
        rf, rv, _ = ens(norm(imgs))
    json.dump(info, open(os.path.join(work, "vision.json"), "w"), indent=1)
    fixture = {"images": imgs.astype(int).tolist(), "findings": rf.numpy().tolist(), "view": rv.numpy().tolist()}
    json.dump(fixture, open(os.path.join(MODEL_DIR, "train", "vision-parity.json"), "w"))


if __name__ == "__main__":
    sys.exit(main())

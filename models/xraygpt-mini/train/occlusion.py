"""Occlusion check of vision v2: does the ensemble look at the lungs or at burnt-in text?

For each finding, the NIH val positives it scores highest (2 per finding): a 16x16 grey patch
(the image mean) slides over the 128x128 input with stride 8; the drop of the finding's logit
is the patch's importance. Prints, per image, the share of the positive importance that falls
in the outer 16 px frame (where PORTABLE / AP / L markers are burnt in) — the frame is 44% of
the image — and writes work/occlusion.png (image | map, one row per image).

  python3 occlusion.py   (after vision.py; reads work/vision-member*.pt and work/vision.json)
"""
import json
import os

import numpy as np
import torch
from PIL import Image

from common import WORK
from vision import Ensemble, Net, member_path
from vision_data import FOLDS, SIZE, VISION_LABELS, load_all

PATCH, STRIDE, FRAME = 16, 8, 16
SHOWN = ["Atelectasis", "Cardiomegaly", "Pleural Effusion", "Lung Opacity", "Pneumonia", "Consolidation", "Edema"]


def occlusion(ens, x, j):
    """x: [1,1,S,S] → importance map [S,S] (mean logit drop of label j over the patches covering a pixel)."""
    with torch.no_grad():
        base = ens(x)[0][0, j].item()
        heat = np.zeros((SIZE, SIZE))
        count = np.zeros((SIZE, SIZE))
        boxes = [(r, c) for r in range(0, SIZE - PATCH + 1, STRIDE) for c in range(0, SIZE - PATCH + 1, STRIDE)]
        batch = x.repeat(len(boxes), 1, 1, 1)
        for b, (r, c) in enumerate(boxes):
            batch[b, :, r : r + PATCH, c : c + PATCH] = 0.0  # 0 = the training mean after normalization
        drops = base - ens(batch)[0][:, j].numpy()
        for (r, c), d in zip(boxes, drops):
            heat[r : r + PATCH, c : c + PATCH] += d
            count[r : r + PATCH, c : c + PATCH] += 1
    return heat / np.maximum(count, 1)


def main():
    info = json.load(open(os.path.join(WORK, "vision.json")))
    members = []
    seeds = info.get("seeds", 1)
    for k in range(FOLDS):
        for si in range(seeds):
            net = Net()
            net.load_state_dict(torch.load(member_path(WORK, k, si, "")))
            members.append(net.eval())
    shift = [float(np.log(t / (1 - t))) for t in (info["thresholds"][l] for l in VISION_LABELS)]
    ens = Ensemble(members, shift, seeds).eval()
    d = load_all()
    mean, std = info["input"]["mean"][0], info["input"]["std"][0]
    va = np.nonzero(d["nih_meta"][:, 3] == "val")[0]
    x = torch.from_numpy(((d["nih_img"][va].astype(np.float64) / 255 - mean) / std).astype(np.float32))[:, None]
    with torch.no_grad():
        logits = ens(x)[0].numpy()
    frame = np.zeros((SIZE, SIZE), bool)
    frame[:FRAME], frame[-FRAME:], frame[:, :FRAME], frame[:, -FRAME:] = True, True, True, True
    rows, shares = [], []
    for name in SHOWN:
        j = VISION_LABELS.index(name)
        pos = np.nonzero(d["nih_y"][va, j] == 1)[0]
        for i in pos[np.argsort(-logits[pos, j])][:2]:
            heat = occlusion(ens, x[i : i + 1], j)
            h = np.clip(heat, 0, None)
            share = float(h[frame].sum() / max(h.sum(), 1e-9))
            shares.append(share)
            meta = d["nih_meta"][va[i]]
            print(f"{name:17s} {meta[0]} ({meta[2]}) p={1 / (1 + np.exp(-logits[i, j])):.2f}  importance in the outer {FRAME}px frame: {share:.2f}", flush=True)
            img = d["nih_img"][va[i]]
            hm = (255 * h / max(h.max(), 1e-9)).astype(np.uint8)
            rows.append(np.concatenate([img.astype(np.uint8), hm], 1))
    print(f"mean share in the frame {np.mean(shares):.2f} (frame area {frame.mean():.2f}); max {np.max(shares):.2f}")
    Image.fromarray(np.concatenate(rows, 0)).save(os.path.join(WORK, "occlusion.png"))


if __name__ == "__main__":
    main()

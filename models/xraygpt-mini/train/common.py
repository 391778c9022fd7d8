"""Paths, seeds and small shared helpers for the xraygpt-mini training scripts."""
import os
import random

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(MODEL_DIR))
DATA = os.environ.get("XRAYGPT_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
WORK = os.path.join(HERE, "work")
# LM_TAG names a trial run's files in work/ (lm{TAG}.pt, tokenizer{TAG}...), so runs in parallel keep apart.
TAG = os.environ.get("LM_TAG", "")


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def ensure_work():
    os.makedirs(WORK, exist_ok=True)
    return WORK

"""Dumps the trained LM for the TypeScript GGUF exporter and writes the parity fixtures.

work/lm-dump.json: {config, tokenizer {tokens, scores, types, bos, eos, unk}, tensors [{name,
dims (ggml order), offset, count}]} and work/lm-dump.bin (float32 little endian).
Tokenizer parity is checked against tokenizer.model itself (npm test on synthetic texts,
npm run eval on every training report), so no report text is committed.
Committed fixture (used by npm test, next to the model):
  parity/generate.json     prompts, their ids, and PyTorch's greedy continuation (ids) up to
                           and including the first "###" stop token (at most 96 tokens).
"""
import json
import os
import sys

import numpy as np
import torch

from common import MODEL_DIR, TAG, WORK
from iu_data import CHEXPERT, VISION_LABELS, findings_line, render
from lm import LM, Config
from prompt_format import DEFAULT_PROMPT, TEMPLATE, TURN_TEMPLATE
from tokenizer import load

GEN_TOKENS = 96


def token_type(sp, i):
    if sp.is_unknown(i):
        return 2
    if sp.is_control(i):
        return 3
    if sp.is_byte(i):
        return 6
    if sp.is_unused(i):
        return 5
    return 1


def dump_model(model, sp):
    cfg = model.cfg
    tensors, chunks, offset = [], [], 0

    def add(name, t, dims):
        nonlocal offset
        a = t.detach().float().contiguous().numpy().astype("<f4")
        tensors.append({"name": name, "dims": dims, "offset": offset, "count": int(a.size)})
        chunks.append(a.tobytes())
        offset += a.size * 4

    d, f, v = cfg.dim, cfg.ffn, cfg.vocab
    add("token_embd.weight", model.embed.weight, [d, v])
    for i, b in enumerate(model.blocks):
        p = f"blk.{i}"
        add(f"{p}.attn_norm.weight", b.attn_norm.weight, [d])
        add(f"{p}.attn_q.weight", b.wq.weight, [d, d])
        add(f"{p}.attn_k.weight", b.wk.weight, [d, d])
        add(f"{p}.attn_v.weight", b.wv.weight, [d, d])
        add(f"{p}.attn_output.weight", b.wo.weight, [d, d])
        add(f"{p}.ffn_norm.weight", b.ffn_norm.weight, [d])
        add(f"{p}.ffn_gate.weight", b.gate.weight, [d, f])
        add(f"{p}.ffn_up.weight", b.up.weight, [d, f])
        add(f"{p}.ffn_down.weight", b.down.weight, [f, d])
    add("output_norm.weight", model.norm.weight, [d])
    add("output.weight", model.embed.weight, [d, v])
    n = sp.get_piece_size()
    header = {
        "config": cfg.to_dict(),
        "tokenizer": {
            "tokens": [sp.id_to_piece(i) for i in range(n)],
            "scores": [float(sp.get_score(i)) for i in range(n)],
            "types": [token_type(sp, i) for i in range(n)],
            "bos": sp.bos_id(), "eos": sp.eos_id(), "unk": sp.unk_id(),
        },
        "tensors": tensors,
    }
    json.dump(header, open(os.path.join(WORK, "lm-dump.json"), "w"))
    with open(os.path.join(WORK, "lm-dump.bin"), "wb") as fh:
        for c in chunks:
            fh.write(c)


def generation_prompts():
    cases = [
        (VISION_LABELS, {"Pneumonia"}, "frontal", DEFAULT_PROMPT),
        (VISION_LABELS, set(), "frontal", DEFAULT_PROMPT),
        (VISION_LABELS, {"Cardiomegaly", "Pleural Effusion"}, "frontal", "Are there any support devices?"),
        (CHEXPERT, {"No Finding"}, None, DEFAULT_PROMPT),
        (CHEXPERT, {"Cardiomegaly", "Pleural Effusion"}, None, DEFAULT_PROMPT),
        (CHEXPERT, {"Lung Opacity", "Atelectasis"}, "frontal", "Is there a pleural effusion?"),
        (["Pneumonia"], {"Pneumonia"}, "lateral", "Is there pneumonia?"),
        ([], set(), None, "What is the impression?"),
    ]
    out = [render(TEMPLATE, findings_line(a, p, v), q) for a, p, v, q in cases]
    # A follow-up turn as condition.ts followUpText appends it.
    out.append(out[0] + " Findings: The lungs are clear. Impression: No acute disease." + render(TURN_TEMPLATE, "", "How is the heart size?"))
    return out


def main():
    sp = load()
    ck = torch.load(os.path.join(WORK, f"lm{TAG}.pt"))
    model = LM(Config(**ck["cfg"]))
    model.load_state_dict(ck["state"])
    model.eval()
    dump_model(model, sp)
    pdir = os.path.join(MODEL_DIR, "parity")
    os.makedirs(pdir, exist_ok=True)
    gens = []
    # Up to and including the first token holding the stop string "###" (where the daemon stops;
    # past it the model is off its training distribution and near-ties make argmax fragile).
    stop_ids = {i for i in range(sp.get_piece_size()) if "###" in sp.id_to_piece(i)}
    for prompt in generation_prompts():
        ids = [sp.bos_id()] + sp.encode(prompt)
        gen = model.greedy(ids, GEN_TOKENS, stop_ids)
        gens.append({"prompt": prompt, "promptIds": ids, "greedy": gen, "text": sp.decode(gen)})
        print(f"{prompt[-60:]!r} -> {sp.decode(gen)[:160]!r}", flush=True)
    json.dump({"tokens": GEN_TOKENS, "cases": gens}, open(os.path.join(pdir, "generate.json"), "w"), indent=1)


if __name__ == "__main__":
    sys.exit(main())

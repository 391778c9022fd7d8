"""SentencePiece tokenizer for the report LM, configured so llama.cpp's SPM tokenizer (BPE merges
by score, byte fallback, a leading "▁" as add_space_prefix, no normalization) gives the same ids."""
import os
import random

import sentencepiece as spm

from common import MODEL_DIR, TAG, WORK
from iu_data import load_reports, make_conversation
from prompt_format import TEMPLATE, TURN_TEMPLATE

VOCAB = int(os.environ.get("LM_VOCAB", "1600"))
MODEL_PATH = os.environ.get("LM_TOKENIZER", os.path.join(MODEL_DIR, "tokenizer.model"))


def train_tokenizer():
    reports = load_reports("train")
    rng = random.Random(7)
    corpus = os.path.join(WORK, f"spm-corpus{TAG}.txt")
    with open(corpus, "w") as f:
        for rep in reports:
            for _ in range(2):
                text, _ = make_conversation(rep, TEMPLATE, TURN_TEMPLATE, rng)
                f.write(text + "\n")
    prefix = os.path.join(WORK, f"tokenizer{TAG}")
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=prefix, model_type="bpe", vocab_size=VOCAB,
        character_coverage=1.0, byte_fallback=True, normalization_rule_name="identity",
        remove_extra_whitespaces=False, add_dummy_prefix=True, split_digits=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, max_sentencepiece_length=16,
        num_threads=2, minloglevel=2, seed_sentencepiece_size=200000,
    )
    os.replace(prefix + ".model", MODEL_PATH)
    return load()


def load():
    return spm.SentencePieceProcessor(model_file=MODEL_PATH)


def encode_with_mask(sp, text, spans):
    """Token ids of `text` (as llama.cpp tokenizes it, without BOS) and, per token, whether it
    starts inside one of the trainable character spans."""
    proto = sp.encode(text, out_type="immutable_proto")
    ids = [p.id for p in proto.pieces]
    mask = [any(a <= p.begin < b for a, b in spans) for p in proto.pieces]
    return ids, mask

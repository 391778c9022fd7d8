#!/usr/bin/python3
"""Builds a stand-in XrayGPT checkout for testing convert.py, and computes PyTorch references.

  make_standin.py checkout OUT_DIR
      OUT_DIR/xraygpt/ (the stand-in package), OUT_DIR/vicuna/ (tokenizer.model, config.json,
      pytorch_model.bin), OUT_DIR/blip2.pth, OUT_DIR/xraygpt_checkpoint.pth,
      OUT_DIR/eval_configs/xraygpt_eval.yaml — all small and randomly initialised (seeded).
  make_standin.py reference CHECKOUT_DIR < request.json > reply.json
      request: {"image": [3*S*S floats, normalised], "before": [ids], "after": [ids], "text": str}
      reply: {"soft": [Q*n_embd], "logits": [n_vocab] at the last position, "ids": sp ids of text}
"""
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE_SIZE = 32
QUERY_TOKENS = 4
CORPUS = [
    "The lungs are clear. There is no pleural effusion or pneumothorax.",
    "Heart size is normal. The mediastinal contours are within normal limits.",
    "Mild cardiomegaly with right lower lobe opacity, concerning for pneumonia.",
    "No acute cardiopulmonary process. Impression: normal chest radiograph.",
    "Findings: left basilar atelectasis. Small bilateral effusions are seen.",
    "Describe the given chest x-ray image in detail. ###Patient: ###Doctor:",
    "You are an experienced Doctor, give the following medical scan: <Img>ImageContent</Img>.",
    "You will be able to see the medical scan once I provide it to you. Please answer my questions.",
]


def train_tokenizer(out_dir):
    import sentencepiece as spm

    corpus = os.path.join(out_dir, "corpus.txt")
    with open(corpus, "w") as f:
        f.write("\n".join(CORPUS * 20))
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=os.path.join(out_dir, "tokenizer"), vocab_size=400, model_type="bpe",
        byte_fallback=True, character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        normalization_rule_name="identity", add_dummy_prefix=True, remove_extra_whitespaces=False,
        split_digits=True, minloglevel=2,
    )
    os.remove(corpus)
    os.remove(os.path.join(out_dir, "tokenizer.vocab"))


def make_checkout(out):
    torch.manual_seed(0)
    shutil.copytree(os.path.join(HERE, "xraygpt"), os.path.join(out, "xraygpt"), ignore=shutil.ignore_patterns("__pycache__"))
    vicuna = os.path.join(out, "vicuna")
    os.makedirs(vicuna)
    train_tokenizer(vicuna)
    sys.path.insert(0, out)
    import sentencepiece as spm
    from xraygpt.models.modeling_llama import LlamaForCausalLM
    from types import SimpleNamespace

    n_vocab = spm.SentencePieceProcessor(model_file=os.path.join(vicuna, "tokenizer.model")).get_piece_size()
    config = dict(vocab_size=n_vocab, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=10000.0, max_position_embeddings=512)
    llm = LlamaForCausalLM(SimpleNamespace(**config))
    with torch.no_grad():
        for name, p in llm.named_parameters():
            if name.endswith("layernorm.weight") or name == "model.norm.weight":
                p.copy_(1 + 0.1 * torch.randn_like(p))
    with open(os.path.join(vicuna, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    torch.save(llm.state_dict(), os.path.join(vicuna, "pytorch_model.bin"))

    from xraygpt.models.mini_gpt4 import MiniGPT4

    model = MiniGPT4(img_size=IMAGE_SIZE, num_query_token=QUERY_TOKENS, llama_model=vicuna)
    state = model.state_dict()
    torch.save({k: v for k, v in state.items() if not k.startswith(("llama_model.", "llama_proj."))}, os.path.join(out, "blip2.pth"))
    torch.save({"model": {k: v for k, v in state.items() if k.startswith("llama_proj.")}}, os.path.join(out, "xraygpt_checkpoint.pth"))
    os.makedirs(os.path.join(out, "eval_configs"))
    with open(os.path.join(out, "eval_configs", "xraygpt_eval.yaml"), "w") as f:
        f.write(f"""model:
  arch: mini_gpt4
  image_size: {IMAGE_SIZE}
  num_query_token: {QUERY_TOKENS}
  llama_model: vicuna
  vision_weights: blip2.pth
  ckpt: xraygpt_checkpoint.pth
datasets:
  openi:
    vis_processor:
      train:
        name: blip2_image_eval
        image_size: {IMAGE_SIZE}
""")


def reference(checkout):
    os.chdir(checkout)
    sys.path.insert(0, checkout)
    from types import SimpleNamespace

    import xraygpt.models  # noqa: F401
    from xraygpt.common.config import Config
    from xraygpt.common.registry import registry

    req = json.load(sys.stdin)
    cfg = Config(SimpleNamespace(cfg_path="eval_configs/xraygpt_eval.yaml", options=None))
    model = registry.get_model_class(cfg.model_cfg.arch).from_config(cfg.model_cfg).eval()
    llm = model.llama_model.float()
    with torch.no_grad():
        image = torch.tensor(req["image"], dtype=torch.float32).view(1, 3, IMAGE_SIZE, IMAGE_SIZE)
        soft = model.encode_img(image)[0]
        embed = llm.model.embed_tokens
        seq = torch.cat([embed(torch.tensor([req["before"]])), soft, embed(torch.tensor([req["after"]]))], dim=1)
        logits = llm(seq)[0, -1]
    json.dump({"soft": soft.flatten().tolist(), "logits": logits.tolist(), "ids": model.llama_tokenizer.sp_model.encode(req["text"])}, sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "checkout":
        make_checkout(os.path.abspath(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "reference":
        reference(os.path.abspath(sys.argv[2]))
    else:
        sys.exit(__doc__)

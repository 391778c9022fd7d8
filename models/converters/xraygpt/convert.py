#!/usr/bin/python3
"""Converts an XrayGPT checkpoint into an xraygpt soft-token model folder.

It imports the user's own XrayGPT checkout (nothing of XrayGPT is copied here), builds the model
the way XrayGPT's demo.py does (Config → registry → from_config, which loads the EVA ViT,
Q-Former, Vicuna weights and the XrayGPT checkpoint named in the config), and writes:

  vision.onnx   image [1, 3, S, S] (normalised) → embeddings [32, n_embd]:
                visual_encoder → ln_vision → Qformer.bert(query_tokens) → llama_proj
  llm.gguf      the Vicuna weights (f16, or f32 with --dtype f32) and its SentencePiece vocabulary,
                written with gguf-py from the llama.cpp sources node-llama-cpp ships
  model.json    the manifest (conditioning "soft-tokens", XrayGPT's prompt)

Usage (from anywhere; run it with the Python environment XrayGPT itself runs in):
  python convert.py --xraygpt-repo ~/XrayGPT --cfg-path eval_configs/xraygpt_eval.yaml \\
      --out models/xraygpt-7b [--id xraygpt-7b] [--dtype f16] [--options key=value ...]
"""
import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from types import SimpleNamespace

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

# XrayGPT's conversation (CONV_VISION, SeparatorStyle.SINGLE, sep "###") rendered as a template.
SYSTEM = ("You are an experienced Doctor, give the following medical scan: <Img>ImageContent</Img>. "
          "You will be able to see the medical scan once I provide it to you. Please answer my questions.")
TEMPLATE = SYSTEM + "###Patient: <Img><ImageHere></Img> {prompt}###Doctor:"
DEFAULT_PROMPT = "Describe the given chest x-ray image in detail."
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


class ConvertError(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(description="Convert an XrayGPT checkpoint to vision.onnx + llm.gguf + model.json")
    p.add_argument("--xraygpt-repo", required=True, help="your XrayGPT checkout (its xraygpt/ package is imported)")
    p.add_argument("--cfg-path", required=True, help="eval config, relative to the checkout (e.g. eval_configs/xraygpt_eval.yaml)")
    p.add_argument("--options", nargs="+", default=None, help="config overrides key=value, as XrayGPT's demo.py takes them")
    p.add_argument("--out", required=True, help="output model folder (must not exist or be empty)")
    p.add_argument("--id", default=None, help="model id (default: the output folder's name)")
    p.add_argument("--name", default="XrayGPT (converted)")
    p.add_argument("--license", default="XrayGPT weights: see the XrayGPT repository's license; Vicuna/LLaMA: their licenses")
    p.add_argument("--dtype", choices=["f16", "f32"], default="f16", help="GGUF weight type for matrices")
    p.add_argument("--context-size", type=int, default=2048)
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--gguf-py", default=None, help="a gguf-py folder (default: extracted from node-llama-cpp's llama.cpp sources)")
    return p.parse_args(argv)


def import_gguf(explicit):
    """gguf-py of the same llama.cpp release the daemon runs (node-llama-cpp's git bundle)."""
    if explicit:
        sys.path.insert(0, explicit)
        return importlib.import_module("gguf")
    bundle = os.path.join(ROOT, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle")
    if not os.path.exists(bundle):
        raise ConvertError(f"{bundle} not found: run npm ci first, or pass --gguf-py")
    tmp = tempfile.mkdtemp(prefix="xraygpt-gguf-py-")
    try:
        subprocess.run(["git", "clone", "--quiet", "--bare", bundle, os.path.join(tmp, "src.git")], check=True)
        archive = subprocess.run(["git", "--git-dir", os.path.join(tmp, "src.git"), "archive", "--format=tar", "HEAD", "gguf-py"], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise ConvertError(f"cannot extract gguf-py from {bundle}: {e}") from e
    sys.path.insert(0, os.path.join(tmp, "gguf-py"))
    return importlib.import_module("gguf")


def build_model(repo, cfg_path, options):
    """XrayGPT's own model construction (as demo.py), run from the checkout's root."""
    if not os.path.isdir(os.path.join(repo, "xraygpt")):
        raise ConvertError(f"{repo} is not an XrayGPT checkout (no xraygpt/ package)")
    os.chdir(repo)
    sys.path.insert(0, repo)
    try:
        from xraygpt.common.config import Config
        from xraygpt.common.registry import registry
        importlib.import_module("xraygpt.models")
        importlib.import_module("xraygpt.processors")
    except ImportError as e:
        raise ConvertError(f"cannot import XrayGPT from {repo}: {e} (run with the Python environment XrayGPT uses)") from e
    if not os.path.exists(cfg_path):
        raise ConvertError(f"config {os.path.join(repo, cfg_path)} not found")
    cfg = Config(SimpleNamespace(cfg_path=cfg_path, options=options))
    model_cls = registry.get_model_class(cfg.model_cfg.arch)
    if model_cls is None:
        raise ConvertError(f"XrayGPT has no model class {cfg.model_cfg.arch!r}")
    model = model_cls.from_config(cfg.model_cfg).eval()
    mean, std = CLIP_MEAN, CLIP_STD
    try:
        proc_cfg = cfg.datasets_cfg.openi.vis_processor.train
        proc = registry.get_processor_class(proc_cfg.name).from_config(proc_cfg)
        mean, std = [float(x) for x in proc.normalize.mean], [float(x) for x in proc.normalize.std]
    except (AttributeError, KeyError, TypeError):
        pass  # the CLIP mean/std XrayGPT's processors use by default
    image_size = int(cfg.model_cfg.get("image_size") or 224)
    return model, image_size, mean, std


class VisionGraph:
    """image → model.encode_img(image)[0][0]: [query tokens, n_embd] (batch 1)."""

    @staticmethod
    def export(model, image_size, path, opset):
        import torch

        for part in (model.visual_encoder, model.ln_vision, model.Qformer, model.llama_proj):
            part.float()
        model.query_tokens.data = model.query_tokens.data.float()

        class Wrapper(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.m = model

            def forward(self, image):
                return self.m.encode_img(image)[0][0]

        dummy = torch.zeros(1, 3, image_size, image_size)
        with torch.no_grad():
            out = Wrapper()(dummy)
            torch.onnx.export(Wrapper(), dummy, path, input_names=["image"], output_names=["embeddings"], opset_version=opset, do_constant_folding=True)
        return list(out.shape)


def vocab_from_sentencepiece(tokenizer, n_vocab):
    """tokens, scores, token types (llama.cpp's: 1 normal, 2 unknown, 3 control, 5 unused, 6 byte)."""
    sp = getattr(tokenizer, "sp_model", None)
    if sp is None:
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=tokenizer.vocab_file)
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        types.append(2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 5 if sp.is_unused(i) else 6 if sp.is_byte(i) else 1)
    for i in range(len(tokens), n_vocab):  # embedding rows beyond the SentencePiece model (e.g. a pad token)
        tokens.append(f"[PAD{i}]")
        scores.append(-1000.0)
        types.append(4)
    return tokens, scores, types, sp


def permute_rope(w, n_head, n_head_kv):
    """Hugging Face's rotary layout (halves) → GGML's (interleaved pairs), for q_proj/k_proj rows."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(gguf, model, path, dtype, name):
    import numpy as np

    llm = model.llama_model
    c = llm.config
    n_head = c.num_attention_heads
    n_kv = getattr(c, "num_key_value_heads", None) or n_head
    state = llm.state_dict()
    n_vocab = state["model.embed_tokens.weight"].shape[0]
    tokens, scores, types, sp = vocab_from_sentencepiece(model.llama_tokenizer, n_vocab)

    w = gguf.GGUFWriter(path, "llama")
    w.add_name(name)
    w.add_context_length(c.max_position_embeddings)
    w.add_embedding_length(c.hidden_size)
    w.add_block_count(c.num_hidden_layers)
    w.add_feed_forward_length(c.intermediate_size)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_layer_norm_rms_eps(c.rms_norm_eps)
    w.add_rope_dimension_count(c.hidden_size // n_head)
    w.add_rope_freq_base(float(getattr(c, "rope_theta", None) or 10000.0))
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(sp.bos_id())
    w.add_eos_token_id(sp.eos_id())
    w.add_unk_token_id(sp.unk_id())
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, c.num_hidden_layers)
    for key, t in state.items():
        if key.endswith("rotary_emb.inv_freq"):
            continue
        data = t.float().numpy()
        if key.endswith("q_proj.weight"):
            data = permute_rope(data, n_head, n_head)
        elif key.endswith("k_proj.weight"):
            data = permute_rope(data, n_head, n_kv)
        new = names.get_name(key, try_suffixes=(".weight", ".bias"))
        if new is None:
            raise ConvertError(f"no GGUF name for LLM tensor {key}")
        data = data.astype(np.float16 if dtype == "f16" and data.ndim == 2 else np.float32)
        w.add_tensor(new, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def manifest(model_id, name, license_, image_size, mean, std, shape, context_size):
    return {
        "id": model_id,
        "name": name,
        "version": "1.0.0",
        "description": "XrayGPT (MedCLIP/EVA vision encoder, Q-Former, linear projection into Vicuna), converted for the soft-token engine",
        "license": license_,
        "vision": {
            "file": "vision.onnx",
            "input": {"name": "image", "width": image_size, "height": image_size, "channels": 3, "mean": mean, "std": std},
            "outputs": [{"kind": "embeddings", "name": "embeddings", "shape": shape}],
        },
        "llm": {"file": "llm.gguf", "contextSize": context_size},
        "conditioning": {"mode": "soft-tokens"},
        "prompt": {"template": TEMPLATE, "stop": ["###"], "defaultPrompt": DEFAULT_PROMPT},
        # XrayGPT's Chat.answer defaults: sampling with top_p 0.9, temperature 1, up to 300 tokens.
        "generation": {"maxTokens": 300, "temperature": 1.0, "topP": 0.9, "topK": 0, "repeatPenalty": 1.0, "seed": 0},
    }


def main(argv):
    args = parse_args(argv)
    out = os.path.abspath(args.out)
    repo = os.path.abspath(os.path.expanduser(args.xraygpt_repo))
    if os.path.exists(out) and os.listdir(out):
        raise ConvertError(f"{out} exists and is not empty (nothing is overwritten)")
    gguf = import_gguf(args.gguf_py)
    model, image_size, mean, std = build_model(repo, args.cfg_path, args.options)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    work = tempfile.mkdtemp(prefix=".partial-", dir=os.path.dirname(out))  # renamed to out when complete
    try:
        print(f"exporting vision.onnx ({image_size}x{image_size})", file=sys.stderr)
        shape = VisionGraph.export(model, image_size, os.path.join(work, "vision.onnx"), args.opset)
        if shape[1] != model.llama_model.config.hidden_size:
            raise ConvertError(f"vision output {shape} does not match the LLM's hidden size {model.llama_model.config.hidden_size}")
        print(f"writing llm.gguf ({args.dtype})", file=sys.stderr)
        write_gguf(gguf, model, os.path.join(work, "llm.gguf"), args.dtype, args.name)
        m = manifest(args.id or os.path.basename(out), args.name, args.license, image_size, mean, std, shape, args.context_size)
        with open(os.path.join(work, "model.json"), "w") as f:
            json.dump(m, f, indent=2)
        os.chmod(work, 0o755)
        if os.path.exists(out):
            os.rmdir(out)  # empty (checked above)
        os.rename(work, out)
    finally:
        if os.path.exists(work):
            shutil.rmtree(work)
    print(f"wrote {out}: vision.onnx, llm.gguf, model.json", file=sys.stderr)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except ConvertError as e:
        sys.exit(f"convert.py: {e}")

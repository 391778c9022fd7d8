"""MiniGPT4-shaped stand-in: visual_encoder → ln_vision → Qformer.bert (query tokens attend to
the image) → llama_proj, plus llama_model and llama_tokenizer, with from_config and encode_img
as the converter calls them."""
import contextlib
import os
from types import SimpleNamespace

import sentencepiece as spm
import torch
from torch import nn

from xraygpt.common.registry import registry
from xraygpt.models.modeling_llama import LlamaForCausalLM


class Attention(nn.Module):
    """Multi-head attention of queries x over context y (single head count, plain matmuls)."""

    def __init__(self, dim, ctx_dim, heads):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(ctx_dim, dim)
        self.v = nn.Linear(ctx_dim, dim)
        self.o = nn.Linear(dim, dim)

    def forward(self, x, y):
        b, t, d = x.shape
        h = self.heads
        q = self.q(x).view(b, t, h, d // h).transpose(1, 2)
        k = self.k(y).view(b, y.shape[1], h, d // h).transpose(1, 2)
        v = self.v(y).view(b, y.shape[1], h, d // h).transpose(1, 2)
        att = ((q @ k.transpose(-1, -2)) / (d // h) ** 0.5).softmax(-1)
        return self.o((att @ v).transpose(1, 2).reshape(b, t, d))


class PatchEncoder(nn.Module):
    """Patch embedding + one pre-norm transformer block; output [B, patches + 1, num_features]."""

    def __init__(self, img_size, patch, width):
        super().__init__()
        self.num_features = width
        self.patch_embed = nn.Conv2d(3, width, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, width) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, (img_size // patch) ** 2 + 1, width) * 0.02)
        self.norm1 = nn.LayerNorm(width)
        self.attn = Attention(width, width, 4)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, width * 2), nn.GELU(), nn.Linear(width * 2, width))

    def forward(self, image):
        x = self.patch_embed(image).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        h = self.norm1(x)
        x = x + self.attn(h, h)
        return x + self.mlp(self.norm2(x))


class QformerBert(nn.Module):
    def __init__(self, hidden, vision_width):
        super().__init__()
        self.self_attn = Attention(hidden, hidden, 2)
        self.cross_attn = Attention(hidden, vision_width, 2)
        self.norm1 = nn.LayerNorm(hidden)
        self.norm2 = nn.LayerNorm(hidden)

    def forward(self, query_embeds, encoder_hidden_states, encoder_attention_mask=None, return_dict=True):
        x = self.norm1(query_embeds + self.self_attn(query_embeds, query_embeds))
        x = self.norm2(x + self.cross_attn(x, encoder_hidden_states))
        return SimpleNamespace(last_hidden_state=x)


class Qformer(nn.Module):
    def __init__(self, hidden, vision_width):
        super().__init__()
        self.config = SimpleNamespace(hidden_size=hidden)
        self.bert = QformerBert(hidden, vision_width)


class LlamaTokenizer:
    """The parts of transformers' LlamaTokenizer the converter reads."""

    def __init__(self, path):
        self.vocab_file = os.path.join(path, "tokenizer.model")
        self.sp_model = spm.SentencePieceProcessor(model_file=self.vocab_file)
        self.bos_token_id = self.sp_model.bos_id()
        self.eos_token_id = self.sp_model.eos_id()


@registry.register_model("mini_gpt4")
class MiniGPT4(nn.Module):
    def __init__(self, img_size=32, num_query_token=4, llama_model="", vision_width=48, qformer_hidden=40):
        super().__init__()
        self.low_resource = False
        self.visual_encoder = PatchEncoder(img_size, 8, vision_width)
        self.ln_vision = nn.LayerNorm(vision_width)
        self.Qformer = Qformer(qformer_hidden, vision_width)
        self.query_tokens = nn.Parameter(torch.randn(1, num_query_token, qformer_hidden))
        self.llama_tokenizer = LlamaTokenizer(llama_model)
        self.llama_model = LlamaForCausalLM.from_pretrained(llama_model, torch_dtype=torch.float16)
        self.llama_proj = nn.Linear(qformer_hidden, self.llama_model.config.hidden_size)

    def maybe_autocast(self):
        return contextlib.nullcontext()

    def encode_img(self, image):
        with self.maybe_autocast():
            image_embeds = self.ln_vision(self.visual_encoder(image))
            image_atts = torch.ones(image_embeds.size()[:-1], dtype=torch.long)
            query_tokens = self.query_tokens.expand(image_embeds.shape[0], -1, -1)
            out = self.Qformer.bert(query_embeds=query_tokens, encoder_hidden_states=image_embeds, encoder_attention_mask=image_atts, return_dict=True)
            inputs_llama = self.llama_proj(out.last_hidden_state)
            atts_llama = torch.ones(inputs_llama.size()[:-1], dtype=torch.long)
        return inputs_llama, atts_llama

    @classmethod
    def from_config(cls, cfg):
        model = cls(img_size=cfg.get("image_size"), num_query_token=cfg.get("num_query_token"), llama_model=cfg.get("llama_model"))
        # Vision weights (EVA ViT / Q-Former in the real model) and the trained checkpoint.
        model.load_state_dict(torch.load(cfg.get("vision_weights"), map_location="cpu"), strict=False)
        ckpt = cfg.get("ckpt", "")
        if ckpt:
            model.load_state_dict(torch.load(ckpt, map_location="cpu")["model"], strict=False)
        return model

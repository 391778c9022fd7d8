"""A small llama-architecture decoder that computes exactly what llama.cpp's LLM_ARCH_LLAMA does:
RMSNorm (eps), rotary embeddings in llama.cpp's "normal" mode (adjacent pairs 2i, 2i+1, theta =
pos * base^(-2i/d)), causal softmax attention, SwiGLU FFN, no biases, output head tied to the
token embedding in training and written out explicitly as output.weight."""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab: int = 2048
    dim: int = 256
    layers: int = 4
    heads: int = 4
    ffn: int = 640
    ctx: int = 512
    eps: float = 1e-5
    rope_base: float = 10000.0

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg, n, device=None):
    hd = cfg.dim // cfg.heads
    inv = cfg.rope_base ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()


def apply_rope(x, cos, sin):
    """x: [B, H, T, hd]; rotates adjacent pairs (x[2i], x[2i+1])."""
    x0 = x[..., 0::2]
    x1 = x[..., 1::2]
    r0 = x0 * cos - x1 * sin
    r1 = x0 * sin + x1 * cos
    return torch.stack([r0, r1], -1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, self.h = cfg.dim, cfg.heads
        self.attn_norm = RMSNorm(d, cfg.eps)
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, d, bias=False)
        self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.ffn_norm = RMSNorm(d, cfg.eps)
        self.gate = nn.Linear(d, cfg.ffn, bias=False)
        self.up = nn.Linear(d, cfg.ffn, bias=False)
        self.down = nn.Linear(cfg.ffn, d, bias=False)

    def forward(self, x, cos, sin, mask, drop, cache=None):
        B, T, D = x.shape
        hd = D // self.h
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, self.h, hd).transpose(1, 2)
        k = self.wk(h).view(B, T, self.h, hd).transpose(1, 2)
        v = self.wv(h).view(B, T, self.h, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], 2)
                v = torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
        att = F.dropout(att.softmax(-1), drop, self.training)
        o = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + F.dropout(self.wo(o), drop, self.training)
        h = self.ffn_norm(x)
        return x + F.dropout(self.down(F.silu(self.gate(h)) * self.up(h)), drop, self.training)


class LM(nn.Module):
    def __init__(self, cfg, dropout=0.0):
        super().__init__()
        self.cfg = cfg
        self.drop = dropout
        self.embed = nn.Embedding(cfg.vocab, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = RMSNorm(cfg.dim, cfg.eps)
        nn.init.normal_(self.embed.weight, std=0.02)
        for b in self.blocks:
            for lin in (b.wq, b.wk, b.wv, b.gate, b.up):
                nn.init.normal_(lin.weight, std=0.02)
            for lin in (b.wo, b.down):
                nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * cfg.layers))
        cos, sin = rope_tables(cfg, cfg.ctx)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def forward(self, ids):
        return self.hidden(ids) @ self.embed.weight.t()

    def hidden(self, ids, caches=None, pos=0):
        T = ids.shape[1]
        x = self.embed(ids)
        mask = torch.full((T, pos + T), float("-inf")).triu(pos + 1)
        cos, sin = self.cos[pos : pos + T], self.sin[pos : pos + T]
        for i, b in enumerate(self.blocks):
            x = b(x, cos, sin, mask, self.drop, None if caches is None else caches[i])
        return self.norm(x)

    @torch.no_grad()
    def greedy(self, ids, n, stop_ids=()):
        """Greedy decoding with a KV cache. Returns the generated ids."""
        caches = [{} for _ in self.blocks]
        h = self.hidden(torch.tensor([list(ids)]), caches, 0)
        pos = len(ids)
        gen = []
        for _ in range(n):
            t = int((h[0, -1] @ self.embed.weight.t()).argmax())
            gen.append(t)
            if t in stop_ids or pos + 1 >= self.cfg.ctx:
                break
            h = self.hidden(torch.tensor([[t]]), caches, pos)
            pos += 1
        return gen

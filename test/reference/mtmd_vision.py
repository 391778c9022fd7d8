#!/usr/bin/env python3
"""Reference forward pass (numpy, float64) of the vision towers + projectors that
server/src/testing/tiny-vlm.ts writes, as llama.cpp v0.4.0's libmtmd (tools/mtmd/clip.cpp,
models/llava.cpp, models/siglip.cpp) computes them. Reads the weights from the mmproj GGUF itself.

Usage: mtmd_vision.py MMPROJ WIDTH HEIGHT < image.rgb > embeddings.f32
  stdin: RGB8 pixels, row-major; stdout: float32 little-endian, n_tokens x dim (dim fastest).
  stderr: one JSON line {"nTokens", "dim", "projector"}.

Preprocessing (mtmd_image_preprocessor_fixed_size, mtmd-image.cpp): an image already of the
tower's image_size x image_size goes through unchanged; any other is scaled to fit (aspect kept,
sides rounded up: PAD_CEIL), resampled as Pillow does (bicubic a = -0.5 for mlp, bilinear for
gemma3; 22-bit fixed-point weights, horizontal pass then vertical, each rounded to u8) and
centred on a square of the pad colour (LLaVA's mean colour 122,116,104 for mlp; black for gemma3).
Pixels are then scaled to [0, 1] (u8 / 255) and normalized with clip.vision.image_mean/std.

The graphs:
- mlp (clip_graph_llava): conv patch embedding (no bias); the class embedding is appended
  AFTER the patches (ggml_concat(inp, class_embd, 1)); learned position embeddings; pre-LN;
  the first n_layer - 1 blocks (LLaVA's second-to-last feature layer); rows 1..n_patches of the
  sequence are taken (clip.cpp's "patches" input skips row 0); then mm.0 -> GELU(tanh) -> mm.2.
- gemma3 (clip_graph_siglip): conv patch embedding + bias; position embeddings; all blocks;
  post-LN; k x k average pooling of the patch grid (k = projector.scale_factor); RMS norm times
  mm.soft_emb_norm.weight; times mm.input_projection.weight.
Blocks: x += attn(LN1(x)); x += ffn(LN2(x)), ffn = down(act(up(x))), act = quick-GELU unless
clip.use_gelu (tanh GELU). Attention: multi-head, softmax(q k^T / sqrt(d_head)), no mask.
"""
import json
import struct
import sys

import numpy as np

GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def unpack(self, fmt):
        size = struct.calcsize(fmt)
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def string(self):
        n = self.unpack("<Q")
        s = self.data[self.pos : self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, vtype):
        if vtype == 8:
            return self.string()
        if vtype == 9:
            etype = self.unpack("<I")
            n = self.unpack("<Q")
            return [self.value(etype) for _ in range(n)]
        return self.unpack(GGUF_SCALARS[vtype])


def read_gguf(path):
    """Metadata dict and tensors (numpy float64, shape = reversed ggml dims)."""
    with open(path, "rb") as f:
        data = f.read()
    r = Reader(data)
    if r.unpack("<I") != 0x46554747:
        raise ValueError(f"{path}: not a GGUF file")
    r.unpack("<I")  # version
    n_tensors = r.unpack("<Q")
    n_kv = r.unpack("<Q")
    meta = {}
    for _ in range(n_kv):
        key = r.string()
        meta[key] = r.value(r.unpack("<I"))
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.unpack("<Q") for _ in range(r.unpack("<I"))]
        ttype = r.unpack("<I")
        offset = r.unpack("<Q")
        infos.append((name, dims, ttype, offset))
    align = meta.get("general.alignment", 32)
    base = (r.pos + align - 1) // align * align
    tensors = {}
    for name, dims, ttype, offset in infos:
        dtype = {0: np.float32, 1: np.float16}[ttype]
        n = int(np.prod(dims))
        arr = np.frombuffer(data, dtype=dtype, count=n, offset=base + offset).astype(np.float64)
        tensors[name] = arr.reshape(list(reversed(dims)))
    return meta, tensors


PRECISION_BITS = 22


def resample_filter(algo):
    def bilinear(x):
        x = abs(x)
        return 1.0 - x if x < 1.0 else 0.0

    def bicubic(x, a=-0.5):
        x = abs(x)
        if x < 1.0:
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
        if x < 2.0:
            return (((x - 5) * x + 8) * x - 4) * a
        return 0.0

    return {"bilinear": (bilinear, 1.0), "bicubic": (bicubic, 2.0)}[algo]


def resample_axis(img, out_size, axis, algo):
    """One Pillow resampling pass of a u8 image [H, W, 3] along axis (1: width, 0: height)."""
    filt, filter_support = resample_filter(algo)
    in_size = img.shape[axis]
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = filter_support * filterscale
    out_shape = list(img.shape)
    out_shape[axis] = out_size
    out = np.empty(out_shape, dtype=np.uint8)
    src = np.moveaxis(img, axis, 0).astype(np.int64)
    dst = np.moveaxis(out, axis, 0)
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size) - xmin
        ss = 1.0 / filterscale
        w = [filt((x + xmin - center + 0.5) * ss) for x in range(xmax)]
        ww = sum(w)
        w = [v / ww if ww != 0.0 else v for v in w]
        k = np.array([int(v * (1 << PRECISION_BITS) + (-0.5 if v < 0 else 0.5)) for v in w], dtype=np.int64)
        acc = (1 << (PRECISION_BITS - 1)) + np.tensordot(k, src[xmin : xmin + xmax], axes=(0, 0))
        dst[xx] = np.clip(acc >> PRECISION_BITS, 0, 255)
    return out


def resize_pillow(img, width, height, algo):
    if img.shape[1] != width:
        img = resample_axis(img, width, 1, algo)
    if img.shape[0] != height:
        img = resample_axis(img, height, 0, algo)
    return img


def fit_square(img, size, algo, pad_color):
    """img_tool::resize with PAD_CEIL: scale to fit (float32 arithmetic, as clip.cpp), centre on pad_color."""
    h, w = img.shape[:2]
    if (w, h) == (size, size):
        return img
    f32 = np.float32
    scale = min(f32(size) / f32(w), f32(size) / f32(h))
    new_w = min(int(np.ceil(f32(w) * scale)), size)
    new_h = min(int(np.ceil(f32(h) * scale)), size)
    out = np.empty((size, size, 3), dtype=np.uint8)
    out[:] = pad_color
    ox, oy = (size - new_w) // 2, (size - new_h) // 2
    out[oy : oy + new_h, ox : ox + new_w] = resize_pillow(img, new_w, new_h, algo)
    return out


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def gelu_quick(x):
    return x / (1.0 + np.exp(-1.702 * x))


def linear(t, name, x):
    """A ggml [in, out] weight is numpy [out, in]; bias optional."""
    y = x @ t[name + ".weight"].T
    if name + ".bias" in t:
        y = y + t[name + ".bias"]
    return y


def block(t, il, x, n_head, eps, act):
    p = f"v.blk.{il}"
    n_pos, d = x.shape
    dh = d // n_head
    h = layer_norm(x, t[p + ".ln1.weight"], t[p + ".ln1.bias"], eps)
    q = linear(t, p + ".attn_q", h).reshape(n_pos, n_head, dh).transpose(1, 0, 2)
    k = linear(t, p + ".attn_k", h).reshape(n_pos, n_head, dh).transpose(1, 0, 2)
    v = linear(t, p + ".attn_v", h).reshape(n_pos, n_head, dh).transpose(1, 0, 2)
    s = q @ k.transpose(0, 2, 1) / np.sqrt(dh)
    s = np.exp(s - s.max(-1, keepdims=True))
    s = s / s.sum(-1, keepdims=True)
    o = (s @ v).transpose(1, 0, 2).reshape(n_pos, d)
    x = x + linear(t, p + ".attn_out", o)
    h = layer_norm(x, t[p + ".ln2.weight"], t[p + ".ln2.bias"], eps)
    return x + linear(t, p + ".ffn_down", act(linear(t, p + ".ffn_up", h)))


def patch_embed(t, img, patch):
    """img [3, H, W] -> [n_patches, d], patches row-major (y then x)."""
    w = t["v.patch_embd.weight"]  # [d, 3, p, p]
    c, hgt, wid = img.shape
    gy, gx = hgt // patch, wid // patch
    tiles = img[:, : gy * patch, : gx * patch].reshape(c, gy, patch, gx, patch).transpose(1, 3, 0, 2, 4)
    out = tiles.reshape(gy * gx, -1) @ w.reshape(w.shape[0], -1).T
    if "v.patch_embd.bias" in t:
        out = out + t["v.patch_embd.bias"]
    return out, gy, gx


def forward(meta, t, rgb, width, height):
    proj = meta["clip.projector_type"]
    size = meta["clip.vision.image_size"]
    patch = meta["clip.vision.patch_size"]
    n_head = meta["clip.vision.attention.head_count"]
    n_layer = meta["clip.vision.block_count"]
    eps = meta["clip.vision.attention.layer_norm_epsilon"]
    act = gelu_tanh if meta.get("clip.use_gelu", False) else gelu_quick
    if "clip.vision.image_grid_pinpoints" in meta:
        raise ValueError("llava-uhd tiling (image_grid_pinpoints) has no reference here")
    algo, pad = ("bicubic", (122, 116, 104)) if proj == "mlp" else ("bilinear", (0, 0, 0))
    square = fit_square(rgb.reshape(height, width, 3), size, algo, pad)
    mean = np.array(meta["clip.vision.image_mean"][:3]).reshape(3, 1, 1)
    std = np.array(meta["clip.vision.image_std"][:3]).reshape(3, 1, 1)
    img = square.transpose(2, 0, 1).astype(np.float64) / 255.0
    img = (img - mean) / std
    x, gy, gx = patch_embed(t, img, patch)
    n_patches = gy * gx
    if proj == "mlp":
        if "v.class_embd" in t:
            x = np.concatenate([x, t["v.class_embd"][None, :]], 0)
        x = x + t["v.position_embd.weight"][: x.shape[0]]
        if "v.pre_ln.weight" in t:
            x = layer_norm(x, t["v.pre_ln.weight"], t["v.pre_ln.bias"], eps)
        for il in range(n_layer - 1):
            x = block(t, il, x, n_head, eps, act)
        offset = 1 if "v.class_embd" in t else 0
        x = x[offset : offset + n_patches]
        x = gelu_tanh(linear(t, "mm.0", x))
        return proj, linear(t, "mm.2", x)
    if proj == "gemma3":
        x = x + t["v.position_embd.weight"]
        for il in range(n_layer):
            x = block(t, il, x, n_head, eps, act)
        x = layer_norm(x, t["v.post_ln.weight"], t["v.post_ln.bias"], eps)
        k = meta.get("clip.vision.projector.scale_factor", 4)
        d = x.shape[1]
        x = x.reshape(gy // k, k, gx // k, k, d).mean(axis=(1, 3)).reshape(-1, d)
        x = x / np.sqrt((x**2).mean(-1, keepdims=True) + eps) * t["mm.soft_emb_norm.weight"]
        return proj, x @ t["mm.input_projection.weight"]  # numpy [d_vision, d_text]
    raise ValueError(f"projector type {proj!r} has no reference here")


def main():
    path, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rgb = np.frombuffer(sys.stdin.buffer.read(), dtype=np.uint8)
    if rgb.size != width * height * 3:
        raise ValueError(f"expected {width * height * 3} bytes of RGB8 on stdin, got {rgb.size}")
    meta, tensors = read_gguf(path)
    proj, emb = forward(meta, tensors, rgb, width, height)
    sys.stdout.buffer.write(emb.astype("<f4").tobytes())
    sys.stderr.write(json.dumps({"projector": proj, "nTokens": emb.shape[0], "dim": emb.shape[1]}) + "\n")


if __name__ == "__main__":
    main()

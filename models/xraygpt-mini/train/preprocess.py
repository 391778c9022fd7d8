"""Mirror of server/src/pipeline/preprocess.ts (the daemon's vision preprocessing), bit for bit.

grey image in [0, 1] (float32 values) -> quantize round(g*255) -> separable area resize in float64
(rows first, then columns; source samples summed in ascending order with weights overlap/scale)
-> (v/255 - mean)/std in float64 -> float32, NCHW.

`preprocess_reference` is a plain loop version (the specification); `preprocess_fast` is a numpy
version with the same order of floating-point operations, used for training.
"""
import math

import numpy as np


def js_round(x):
    """JavaScript Math.round: nearest integer, ties toward +infinity."""
    r = math.floor(x)
    return r + 1 if x - r >= 0.5 else r


def area_weights(src, dst):
    scale = src / dst
    starts, weights = [], []
    for i in range(dst):
        lo = i * scale
        hi = (i + 1) * scale
        first = math.floor(lo)
        last = min(src, math.ceil(hi)) - 1
        w = [(min(hi, j + 1) - max(lo, j)) / scale for j in range(first, last + 1)]
        starts.append(first)
        weights.append(w)
    return starts, weights


def resize_area_reference(data, sw, sh, width, height):
    """data: row-major list of float32 grey values (Python floats). Returns float64 list."""
    xs, xw = area_weights(sw, width)
    ys, yw = area_weights(sh, height)
    tmp = [0.0] * (sh * width)
    for y in range(sh):
        row = [float(js_round(data[y * sw + x] * 255)) for x in range(sw)]
        for ox in range(width):
            acc = 0.0
            s, w = xs[ox], xw[ox]
            for k in range(len(w)):
                acc += w[k] * row[s + k]
            tmp[y * width + ox] = acc
    out = [0.0] * (height * width)
    for oy in range(height):
        s, w = ys[oy], yw[oy]
        for ox in range(width):
            acc = 0.0
            for k in range(len(w)):
                acc += w[k] * tmp[(s + k) * width + ox]
            out[oy * width + ox] = acc
    return out


def preprocess_reference(data, sw, sh, width, height, channels, mean, std):
    """Returns a float32 numpy array of shape [channels*height*width] (NCHW, batch 1)."""
    resized = resize_area_reference(data, sw, sh, width, height)
    out = np.zeros(channels * width * height, dtype=np.float32)
    for c in range(channels):
        for i, v in enumerate(resized):
            out[c * width * height + i] = np.float32((v / 255 - mean[c]) / std[c])
    return out


def _axis_matrix(src, dst):
    starts, weights = area_weights(src, dst)
    kmax = max(len(w) for w in weights)
    idx = np.zeros((dst, kmax), dtype=np.int64)
    wt = np.zeros((dst, kmax), dtype=np.float64)
    for i, (s, w) in enumerate(zip(starts, weights)):
        for k in range(kmax):
            idx[i, k] = min(s + k, src - 1)
            wt[i, k] = w[k] if k < len(w) else 0.0
    return idx, wt


def quantize(grey):
    """grey: float32 array in [0,1] -> float64 0..255 integers with JS Math.round semantics."""
    x = grey.astype(np.float32).astype(np.float64) * 255
    r = np.floor(x)
    return np.where(x - r >= 0.5, r + 1, r)


def resize_area_fast(q, width, height):
    """q: [..., H, W] float64 quantized values (one image or a batch). Same operation order as
    the reference, image by image."""
    sh, sw = q.shape[-2:]
    xi, xw = _axis_matrix(sw, width)
    yi, yw = _axis_matrix(sh, height)
    tmp = np.zeros(q.shape[:-1] + (width,), dtype=np.float64)
    for k in range(xi.shape[1]):
        tmp = tmp + xw[:, k] * q[..., xi[:, k]]
    out = np.zeros(q.shape[:-2] + (height, width), dtype=np.float64)
    for k in range(yi.shape[1]):
        out = out + yw[:, k][:, None] * tmp[..., yi[:, k], :]
    return out


def preprocess_fast(grey, width, height, channels, mean, std):
    """grey: [H, W] float32 in [0, 1]. Returns float32 [channels, height, width]."""
    resized = resize_area_fast(quantize(grey), width, height)
    return np.stack([((resized / 255 - mean[c]) / std[c]).astype(np.float32) for c in range(channels)])


def normalize_uint8(images, mean, std):
    """Fast path for images already at the model size (uint8 [N, H, W]): quantize is the identity
    and area resize to the same size is the identity (weights 1.0). Returns float32 [N, 1, H, W]."""
    v = images.astype(np.float64)
    return ((v / 255 - mean) / std).astype(np.float32)[:, None]


if __name__ == "__main__":
    # CLI used by the TS parity test: reads JSON {width,height,data,outW,outH,channels,mean,std}
    # from stdin, writes the float32 tensor bytes (little endian) to stdout.
    import json
    import sys

    spec = json.load(sys.stdin)
    data = [float(np.float32(v)) for v in spec["data"]]
    ref = preprocess_reference(data, spec["width"], spec["height"], spec["outW"], spec["outH"], spec["channels"], spec["mean"], spec["std"])
    grey = np.array(data, dtype=np.float32).reshape(spec["height"], spec["width"])
    fast = preprocess_fast(grey, spec["outW"], spec["outH"], spec["channels"], spec["mean"], spec["std"]).reshape(-1)
    if ref.tobytes() != fast.tobytes():
        sys.stderr.write("preprocess_fast differs from preprocess_reference\n")
        sys.exit(2)
    sys.stdout.buffer.write(ref.astype("<f4").tobytes())

#!/usr/bin/env python3
"""make_seeds.py — writes the small seed corpora of the libFuzzer targets into
tests/fuzz/corpus/<target>/ (committed; rerun only to regenerate). Needs numpy and Pillow."""
import gzip, io, json, os, struct

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, meta):
    header, blob = {"__metadata__": meta}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + blob


rng = np.random.default_rng(7)
f32 = rng.standard_normal(6).astype("<f4")
put("safetensors", "f32_f16_bf16.safetensors", safetensors({
    "a.weight": ("F32", [2, 3], f32.tobytes()),
    "b": ("F16", [4], rng.standard_normal(4).astype("<f2").tobytes()),
    "c": ("BF16", [2], (rng.standard_normal(2).astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()),
    "scalar": ("F32", [], f32[:1].tobytes()),
    "empty": ("F32", [0, 3], b""),
}, {"format": "burn-ckpt-1", "step": "8"}))
put("safetensors", "one.safetensors", safetensors({"x": ("F32", [1], b"\0\0\x80\x3f")}, {}))

with open(os.path.join(HERE, "..", "..", "configs", "tiny", "burn.ini")) as f:
    put("config", "tiny.ini", f.read())
put("config", "small.ini", "; c\n[run]\ndir = runs/x\nseed = 3\n[train]\nlr = 1e-3\nepochs=2\n"
    "[data]\nsource = list\ntrain = a b.txt\n")

images = rng.integers(0, 256, (3, 4, 5), dtype=np.uint8)
idx_img = struct.pack(">BBBBIII", 0, 0, 8, 3, 3, 4, 5) + images.tobytes()
idx_lab = struct.pack(">BBBBI", 0, 0, 8, 1, 3) + bytes([0, 2, 1])
put("idx", "plain.bin", struct.pack("<H", len(idx_img)) + idx_img + idx_lab)
gz_img = gzip.compress(idx_img, mtime=0)
put("idx", "gzip.bin", struct.pack("<H", len(gz_img)) + gz_img + gzip.compress(idx_lab, mtime=0))

put("list", "list.txt", "# comment\nimgs/a.png 3\r\n  imgs/with space.jpg\t0  \n\nb/c.jpeg 12\n")
put("list", "one.txt", "x.png 0")

def encoded(mode, size, fmt, **kw):
    shape = (size[1], size[0]) + (() if mode in ("L", "P") else (len(mode),))
    im = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode if mode != "P" else "L")
    if mode == "P":
        im = im.convert("P")
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()

put("image", "rgb.png", encoded("RGB", (7, 5), "PNG"))
put("image", "gray.png", encoded("L", (4, 6), "PNG"))
put("image", "rgba.png", encoded("RGBA", (3, 3), "PNG"))
put("image", "palette.png", encoded("P", (5, 2), "PNG"))
put("image", "rgb_9x9.png", encoded("RGB", (9, 9), "PNG"))
put("image", "rgb.jpg", encoded("RGB", (16, 8), "JPEG", quality=80))
put("image", "gray.jpg", encoded("L", (8, 8), "JPEG"))
put("image", "progressive.jpg", encoded("RGB", (12, 10), "JPEG", progressive=True))
put("image", "subsampled.jpg", encoded("RGB", (17, 9), "JPEG", subsampling=2))

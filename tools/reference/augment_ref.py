#!/usr/bin/env python3
"""augment_ref.py - reference outputs of the augmentations, from Pillow and numpy, for
tests/test_augment_ref.c. Writes tests/fixtures/augment_ref.safetensors (a few KB, committed).

Needs numpy and Pillow (not needed by `make test`, which reads the committed fixture):
    python3 -m pip install numpy Pillow
    python3 tools/reference/augment_ref.py [--out tests/fixtures/augment_ref.safetensors]

What each case is (`src` is a random 17x13 RGB uint8 image, `<case>.arg` the parameters):
  resize_*      PIL Image.resize(BICUBIC | BILINEAR), with a crop box first for *_box
                (torchvision's resized_crop on PIL images), uint8 out
  eval          torchvision's Resize(R) + CenterCrop(S) on a PIL image, done with PIL
  brightness, contrast, saturation   PIL ImageEnhance (torchvision's PIL path), uint8 out
  hue_pil       torchvision's PIL adjust_hue (HSV mode, uint8 hue shift), uint8 out
  hue_float     torchvision's tensor adjust_hue formulas in float64 on src/255
  gray          PIL convert("L") (ITU-R 601-2), uint8 out
  solarize      PIL ImageOps.solarize(threshold), uint8 out
  blur          torchvision's tensor gaussian_blur in float64 (kernel exp(-x^2/2s^2) over
                k taps, reflect padding) on src/255
"""
import argparse
import json
import struct

import numpy as np
from PIL import Image, ImageEnhance, ImageOps


def py_round(x):
    return int(round(x))  # half to even, as torchvision


def eval_geometry(w, h, size, ratio):
    r = py_round(size / ratio)
    if w <= h:
        rw, rh = r, int(r * h / w)
    else:
        rw, rh = int(r * w / h), r
    return rw, rh, py_round((rw - size) / 2.0), py_round((rh - size) / 2.0)


def hue_float(img, shift):
    """torchvision.transforms.functional_tensor adjust_hue, in float64, HWC."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    maxc, minc = img.max(-1), img.min(-1)
    eqc = maxc == minc
    cr = maxc - minc
    s = cr / np.where(eqc, 1.0, maxc)
    crd = np.where(eqc, 1.0, cr)
    rc, gc, bc = (maxc - r) / crd, (maxc - g) / crd, (maxc - b) / crd
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    hh = np.mod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    hh = np.mod(hh + shift, 1.0)
    v = maxc
    i = np.floor(hh * 6.0)
    f = hh * 6.0 - i
    i = i.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0, 1)
    q = np.clip(v * (1.0 - s * f), 0, 1)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0, 1)
    sel = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.zeros_like(img)
    for k, (a, bb, c) in enumerate(sel):
        m = i == k
        out[..., 0][m], out[..., 1][m], out[..., 2][m] = a[m], bb[m], c[m]
    return out


def hue_pil(pil, shift):
    """torchvision.transforms.functional_pil adjust_hue."""
    h, s, v = pil.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    with np.errstate(over="ignore"):
        np_h += np.uint8(int(shift * 255) % 256)  # wraps like the old np.uint8(float)
    h = Image.fromarray(np_h, "L")
    return np.array(Image.merge("HSV", (h, s, v)).convert("RGB"))


def blur_float(img, sigma, k):
    half = (k - 1) * 0.5
    x = np.linspace(-half, half, k)
    kern = np.exp(-0.5 * (x / sigma) ** 2)
    kern /= kern.sum()
    r = k // 2
    padded = np.pad(img, ((r, r), (r, r), (0, 0)), mode="reflect")
    h, w = img.shape[:2]
    tmp = np.zeros((h + 2 * r, w, 3))
    for t in range(k):
        tmp += kern[t] * padded[:, t:t + w]
    out = np.zeros((h, w, 3))
    for t in range(k):
        out += kern[t] * tmp[t:t + h]
    return out


def save_safetensors(path, tensors, meta):
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        dtype = {np.dtype(np.uint8): "U8", np.dtype(np.float32): "F32"}[arr.dtype]
        data = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="tests/fixtures/augment_ref.safetensors")
    args = ap.parse_args()
    rng = np.random.default_rng(20240601)
    src = rng.integers(0, 256, size=(13, 17, 3), dtype=np.uint8)  # h=13, w=17
    pil = Image.fromarray(src, "RGB")
    f = src.astype(np.float64) / 255.0
    t = {"src": src}

    def case(name, out, *arg):
        t[name + ".out"] = out
        if arg:
            t[name + ".arg"] = np.array(arg, dtype=np.float32)

    # resize: arg = (box x, y, w, h, out w, out h, interp 0 bicubic / 1 bilinear)
    for name, box, size, interp in [
        ("resize_bicubic_down", (0, 0, 17, 13), (7, 5), 0),
        ("resize_bicubic_up", (0, 0, 17, 13), (29, 23), 0),
        ("resize_bicubic_box", (3, 2, 11, 9), (6, 8), 0),
        ("resize_bicubic_box_up", (5, 1, 4, 6), (15, 11), 0),
        ("resize_bilinear_down", (0, 0, 17, 13), (6, 4), 1),
        ("resize_bilinear_box_up", (2, 4, 9, 7), (20, 16), 1),
    ]:
        x, y, w, h = box
        mode = Image.BICUBIC if interp == 0 else Image.BILINEAR
        out = pil.crop((x, y, x + w, y + h)).resize(size, mode)
        case(name, np.array(out), x, y, w, h, size[0], size[1], interp)
    # eval: arg = (size, crop ratio)
    size, ratio = 8, 0.875
    rw, rh, ox, oy = eval_geometry(17, 13, size, ratio)
    out = pil.resize((rw, rh), Image.BICUBIC).crop((ox, oy, ox + size, oy + size))
    case("eval", np.array(out), size, ratio, rw, rh, ox, oy)
    case("brightness", np.array(ImageEnhance.Brightness(pil).enhance(1.3)), 1.3)
    case("contrast_low", np.array(ImageEnhance.Contrast(pil).enhance(0.6)), 0.6)
    case("contrast_high", np.array(ImageEnhance.Contrast(pil).enhance(1.4)), 1.4)
    case("saturation_low", np.array(ImageEnhance.Color(pil).enhance(0.5)), 0.5)
    case("saturation_high", np.array(ImageEnhance.Color(pil).enhance(1.6)), 1.6)
    case("hue_pil", hue_pil(pil, 0.2), 0.2)
    case("hue_float", hue_float(f, -0.13).astype(np.float32), -0.13)
    case("gray", np.array(pil.convert("L")))
    case("solarize", np.array(ImageOps.solarize(pil, 128)), 128)
    case("blur", blur_float(f, 1.3, 5).astype(np.float32), 1.3, 5)
    meta = {"generator": "tools/reference/augment_ref.py",
            "pillow": Image.__version__ if hasattr(Image, "__version__") else "?",
            "numpy": np.__version__}
    save_safetensors(args.out, t, meta)
    print(f"wrote {args.out}: {len(t)} tensors")


if __name__ == "__main__":
    main()

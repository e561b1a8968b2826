#!/usr/bin/env python3
"""data_pil.py - the same input pipeline in Python (PIL + numpy, one process, one thread), for
`burn_bench data --python`, which runs it on the files it times burn on and prints the ratio.

Per image: open + decode (PIL) + convert("RGB"), then two views of the BYOL/BURN training
augmentation as torchvision does it on PIL images: RandomResizedCrop (scale 0.08-1, ratio
3/4-4/3, bicubic), flip p 0.5, ColorJitter(0.4, 0.4, 0.4, 0.1) in random order with p 0.6,
grayscale p 0.2, Gaussian blur sigma U(0.1, 2) p 0.2 (PIL's GaussianBlur, as MoCo v2),
normalise to a float32 CHW array. Prints {"images_per_s": ...}.

    python3 -m pip install numpy Pillow
    python3 tools/bench/data_pil.py --dir FOLDER --size 224 [--min-seconds 3]
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def rrc_box(w, h, rng, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    area = w * h
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        cw, ch = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
        if 0 < cw <= w and 0 < ch <= h:
            return rng.randint(0, w - cw), rng.randint(0, h - ch), cw, ch
    r = w / h
    cw, ch = w, h
    if r < ratio[0]:
        ch = int(round(w / ratio[0]))
    elif r > ratio[1]:
        cw = int(round(h * ratio[1]))
    return (w - cw) // 2, (h - ch) // 2, cw, ch


def adjust_hue(img, shift):
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    with np.errstate(over="ignore"):
        np_h += np.uint8(int(shift * 255) % 256)  # wraps like the old np.uint8(float)
    return Image.merge("HSV", (Image.fromarray(np_h, "L"), s, v)).convert("RGB")


def view(img, size, rng):
    x, y, cw, ch = rrc_box(img.width, img.height, rng)
    v = img.crop((x, y, x + cw, y + ch)).resize((size, size), Image.BICUBIC)
    if rng.random() < 0.5:
        v = v.transpose(Image.FLIP_LEFT_RIGHT)
    if rng.random() < 0.6:
        ops = [
            lambda im: ImageEnhance.Brightness(im).enhance(rng.uniform(0.6, 1.4)),
            lambda im: ImageEnhance.Contrast(im).enhance(rng.uniform(0.6, 1.4)),
            lambda im: ImageEnhance.Color(im).enhance(rng.uniform(0.6, 1.4)),
            lambda im: adjust_hue(im, rng.uniform(-0.1, 0.1)),
        ]
        rng.shuffle(ops)
        for op in ops:
            v = op(v)
    if rng.random() < 0.2:
        v = v.convert("L").convert("RGB")
    if rng.random() < 0.2:
        v = v.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.1, 2.0)))
    arr = (np.asarray(v, np.float32) / 255.0 - MEAN) / STD
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def main():
    ap = argparse.ArgumentParser(description="PIL + numpy reference input pipeline")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--min-seconds", type=float, default=3.0)
    args = ap.parse_args()
    files = sorted(os.path.join(r, f) for r, _, fs in os.walk(args.dir) for f in fs
                   if f.lower().endswith((".jpg", ".jpeg", ".png")))
    if not files:
        raise SystemExit(f"no images under {args.dir}")
    rng = random.Random(7)
    n, t0 = 0, time.perf_counter()
    while True:
        for path in files:
            with Image.open(path) as im:
                img = im.convert("RGB")
            view(img, args.size, rng)
            view(img, args.size, rng)
            n += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= args.min_seconds:
            break
    print(json.dumps({"images_per_s": n / elapsed, "images": n, "seconds": elapsed}))


if __name__ == "__main__":
    main()

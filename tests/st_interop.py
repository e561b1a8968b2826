#!/usr/bin/env python3
"""st_interop.py — safetensors interoperability with the reference Python package.

  st_interop.py write PATH   write a file with the `safetensors` package for burn to read
  st_interop.py check PATH   check a file written by burn (tests/test_safetensors.c) loads
                             in the `safetensors` package with the expected contents
Exit 0 when all is well; a message and exit 1 otherwise."""
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file


def write(path):
    h = np.array([0.1, -2.5, 65504.0, 1e-5, 3.14159], dtype=np.float16)
    save_file({
        "a": (np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5 - 1.0),
        "h": h,
        "h_as_f32": h.astype(np.float32),
        "i": np.array([-7, 2**31 - 1], dtype=np.int32),
        "l": np.array([-(2**40), 3], dtype=np.int64),
        "u": np.array([0, 200, 255], dtype=np.uint8),
    }, path, metadata={"who": "python"})


def check(path):
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
        assert meta == {"who": "burn", "step": "12"}, meta
        w = f.get_tensor("w")
        assert w.dtype == np.float32 and w.shape == (2, 3), (w.dtype, w.shape)
        assert np.array_equal(w, np.arange(6, dtype=np.float32).reshape(2, 3) * 0.25), w
        i = f.get_tensor("i")
        assert i.dtype == np.int64 and np.array_equal(i, np.arange(4, dtype=np.int64) * 10**12), i
        u = f.get_tensor("u")
        assert u.dtype == np.uint8 and list(u) == [1, 2, 250], u
        h = f.get_tensor("h")
        assert h.dtype == np.float16 and list(h.astype(np.float32)) == [1.0, -0.5, 2048.0], h
        e = f.get_tensor("empty")
        assert e.shape == (0, 5), e.shape


if __name__ == "__main__":
    try:
        {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
    except Exception as exc:  # report, do not trace back
        print(f"st_interop: {type(exc).__name__}: {exc}")
        sys.exit(1)

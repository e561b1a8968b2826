#!/usr/bin/env python3
"""torch_export_check.py — helper of tests/test_infer.c for `burn_gpu export --torch`.

  torch_export_check.py TORCH.safetensors N OUT.f32
      load the file into tools/reference/burn_reference.py's ReActNetA (strict) in eval mode,
      run N deterministic images x[i] = ((i·37 mod 101) − 50) / 25 (flat NCHW index i) and
      write the features [N, F] as raw little-endian float32 to OUT.f32
Exit 0 when all is well; a message and exit 1 otherwise."""
import os
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "reference"))
from burn_reference import ReActNetA  # noqa: E402


def main():
    path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    if meta.get("format") != "burn-torch-1":
        sys.exit(f"{path}: format {meta.get('format')!r}")
    m = ReActNetA(width=float(meta["width"]), stem_stride=int(meta["stem_stride"]),
                  stage=int(meta["stage"]), feature_fc=meta["feature_fc"] == "1")
    m.load_state_dict(load_file(path), strict=True)
    m.eval()
    s = int(meta["image_size"])
    x = ((torch.arange(n * 3 * s * s, dtype=torch.int64) * 37 % 101) - 50).float() / 25
    with torch.no_grad():
        y = m(x.view(n, 3, s, s))
    np.ascontiguousarray(y.numpy(), dtype="<f4").tofile(out)


if __name__ == "__main__":
    main()

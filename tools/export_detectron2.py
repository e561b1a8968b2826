#!/usr/bin/env python3
"""export_detectron2.py — a `burn_gpu export --torch` file -> a detectron2 backbone checkpoint.

  python3 tools/export_detectron2.py STUDENT.safetensors OUT.pkl [--prefix P] [--keep-fc]

The input is the PyTorch state dict of ReActNet-A written by `burn_gpu export --torch`
(metadata format "burn-torch-1"; names of tools/reference/burn_reference.py's ReActNetA).
The output is the pickle detectron2's DetectionCheckpointer loads for a pretrained backbone:
{"model": {name: numpy array}, "__author__": "burn", "matching_heuristics": True} — as the
MoCo / DINO conversion scripts write it. With matching_heuristics detectron2 matches names by
their suffix, so the default prefix "" fits a backbone module that registers ReActNetA's
submodules (stem, blocks) under any path; --prefix (e.g. "backbone.bottom_up.") writes the
full names instead. The feature FC ("fc.*", the 1024-d pretraining feature of METHOD.md §2) is
dropped unless --keep-fc: detection backbones use the spatial maps of the blocks.

Binary convs carry the FP32 latent weights; the model binarises them (α_o·sign(W), stage 2)
and its activations (RSign) itself, so the backbone module must be burn_reference's (or an
equivalent), not a plain FP conv net. The architecture numbers (width, stem_stride, stage,
feature_fc, image_size) are copied into the pickle under "burn_metadata"."""
import argparse
import pickle
import sys

from safetensors import safe_open


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", help="safetensors from burn_gpu export --torch")
    ap.add_argument("output", help="detectron2 checkpoint (.pkl)")
    ap.add_argument("--prefix", default="", help='prepended to every name (default "")')
    ap.add_argument("--keep-fc", action="store_true", help="keep the feature FC (fc.*)")
    args = ap.parse_args()
    try:
        with safe_open(args.input, "np") as f:
            meta = f.metadata() or {}
            if meta.get("format") != "burn-torch-1":
                sys.exit(f"{args.input}: not a burn_gpu export --torch file "
                         f"(format {meta.get('format')!r}, expected 'burn-torch-1')")
            model = {}
            for name in f.keys():
                if name.startswith("fc.") and not args.keep_fc:
                    continue
                model[args.prefix + name] = f.get_tensor(name)
    except (OSError, ValueError) as e:  # unreadable or corrupt file
        sys.exit(f"{args.input}: {e}")
    out = {"model": model, "__author__": "burn", "matching_heuristics": True,
           "burn_metadata": dict(meta)}
    with open(args.output, "wb") as f:
        pickle.dump(out, f)
    print(f"wrote {args.output}: {len(model)} tensors (prefix {args.prefix!r}, "
          f"fc {'kept' if args.keep_fc else 'dropped'})")


if __name__ == "__main__":
    main()

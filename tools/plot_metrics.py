#!/usr/bin/env python3
"""plot_metrics.py — draw a run's metrics.jsonl as PNG curves: the loss terms (loss, KL, FS)
on a log axis, λ and the learning rate (each on its own axis), the gradient norms of the
student classifier, the student feature extractor and the teacher head (the paper's Fig. 3),
and the collapse statistics of both heads (the logits' spread across the batch and the
entropy of the batch-mean softmax H(p̄); docs/METHOD.md says how they are read).

    python3 tools/plot_metrics.py runs/demo/stage1/metrics.jsonl [more.jsonl ...] -o curves.png

Several files (e.g. stage 1 and stage 2) are drawn one after the other on a common step axis.
Needs matplotlib (tools/install-deps.sh installs it)."""
import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(paths):
    rows, offset = [], 0
    for path in paths:
        last = 0
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"plot_metrics: {path}:{n}: not JSON: {e}")
                if "step" not in r:
                    continue
                r["x"] = offset + r["step"]
                last = r["step"]
                rows.append(r)
        offset += last
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("metrics", nargs="+")
    ap.add_argument("-o", "--out", default="curves.png")
    args = ap.parse_args()
    rows = load(args.metrics)
    if not rows:
        sys.exit("plot_metrics: no metrics lines found")
    x = [r["x"] for r in rows]
    panels = [("loss terms", ["loss", "kl", "fs"], True),
              ("λ (FS weight) and learning rate", ["lambda", "lr"], False),
              ("gradient norms", ["gn_student_head", "gn_student", "gn_teacher_head"], True),
              ("collapse: logit std across the batch (left), H(p̄) (right)",
               ["t_std", "s_std", "t_H", "s_H"], True)]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 12), sharex=True)
    for ax, (title, keys, logy) in zip(axes, panels):
        for k in keys:
            ys = [r.get(k) for r in rows]
            if any(y is not None for y in ys):
                if k in ("lr", "t_H", "s_H"):  # a second axis of its own scale
                    if not hasattr(ax, "right"):
                        ax.right = ax.twinx()
                    color = {"lr": "C3", "t_H": "C4", "s_H": "C5"}[k]
                    ax.right.plot(x, [y if y is None or y > 0 else 1e-12 for y in ys]
                                  if k == "lr" else ys, color, ls="--" if k != "lr" else "-",
                                  label=k)
                    ax.right.set_ylabel(k if k == "lr" else "H(p̄), nats")
                    ax.right.legend(loc="upper right")
                else:
                    ax.plot(x, ys, label=k)
        ax.set_title(title)
        if logy and any(v > 0 for k in keys for v in
                        (r.get(k) for r in rows) if v is not None and k not in ("t_H", "s_H")):
            ax.set_yscale("log")
        ax.legend(loc="upper left")
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("optimiser update")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"plot_metrics: {len(rows)} points -> {args.out}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""torch_step.py — the PyTorch eager side of tools/bench/step_vs_torch.sh: one whole BURN
training update (docs/METHOD.md §4) on synthetic inputs, as an eager framework runs it. The
networks, head and loss are tools/reference/burn_reference.py's, the model whose single step
tests/test_parity.c checks burn against tensor by tensor, so both programs compute the same
update: the frozen teacher's forwards of both views (no_grad, eval-mode BN), the student's
forwards (binary activations by sign + STE; stage 2 binary weights too, as the authors' code
emulates them), both heads, the symmetrised KL + cosine loss, one backward, Adam over the
student and both heads. Prints one JSON object like `burn_bench step --json`.

    .venv-bench/bin/python3 tools/bench/torch_step.py --stage 1 --width 0.25 --image-size 32 \\
        --batch 128 --teacher-depth 18 --teacher-width 0.25 --head 512 512 --threads 2

On CUDA (--device cuda) the eager side is what a PyTorch user would run there: channels-last
memory and autocast bf16 (--no-amp for FP32)."""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import burn_reference as R  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stage", type=int, default=1, choices=(1, 2))
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--stem-stride", type=int, default=2)
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--teacher-depth", type=int, default=50, choices=(18, 34, 50))
    ap.add_argument("--teacher-width", type=float, default=1.0)
    ap.add_argument("--small-input", action="store_true")
    ap.add_argument("--head", type=int, nargs=2, default=(2000, 2000), metavar=("HIDDEN", "OUT"))
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: default)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--no-amp", action="store_true", help="CUDA: FP32 instead of bf16 autocast")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    amp = cuda and not args.no_amp
    fmt = torch.channels_last if cuda else torch.contiguous_format

    torch.manual_seed(0)
    student = R.ReActNetA(width=args.width, stem_stride=args.stem_stride, stage=args.stage)
    s_head = R.mlp_head(student.feature_dim, *args.head)
    teacher = R.ResNet(depth=args.teacher_depth, width=args.teacher_width,
                       small_input=args.small_input)
    t_head = R.mlp_head(teacher.feature_dim, *args.head)
    for m in (student, s_head, teacher, t_head):
        m.to(dev, memory_format=fmt) if cuda else m.to(dev)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    params = [p for m in (student, s_head, t_head) for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=args.lr)
    shape = (args.batch, 3, args.image_size, args.image_size)
    v1 = torch.empty(shape, device=dev).uniform_(-2, 2).contiguous(memory_format=fmt)
    v2 = torch.empty(shape, device=dev).uniform_(-2, 2).contiguous(memory_format=fmt)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    phases = {"teacher": [], "student_fwd": [], "heads_fwd": [], "backward": [], "adam": []}
    total, first_loss = [], None
    for u in range(args.warmup + args.steps):
        sync()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast(args.device, dtype=torch.bfloat16, enabled=amp):
            with torch.no_grad():
                f_t1, f_t2 = teacher(v1), teacher(v2)
            sync()
            t1 = time.perf_counter()
            f_s1, f_s2 = student(v1), student(v2)
            sync()
            t2 = time.perf_counter()
            s1, s2 = s_head(f_s1), s_head(f_s2)
            t_1, t_2 = t_head(f_t1), t_head(f_t2)
        lam = R.burn_lambda(u, 1000)
        loss = (R.burn_loss_direction(t_2.float(), s1.float(), lam)[0] +
                R.burn_loss_direction(t_1.float(), s2.float(), lam)[0])
        sync()
        t3 = time.perf_counter()
        loss.backward()
        sync()
        t4 = time.perf_counter()
        opt.step()
        sync()
        t5 = time.perf_counter()
        if first_loss is None:
            first_loss = float(loss.detach())
        if u < args.warmup:
            continue
        total.append(t5 - t0)
        for k, a, b in (("teacher", t0, t1), ("student_fwd", t1, t2), ("heads_fwd", t2, t3),
                        ("backward", t3, t4), ("adam", t4, t5)):
            phases[k].append(b - a)
    step = statistics.median(total)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    out = {"bench": "step", "program": "pytorch", "torch": torch.__version__,
           "device": args.device, "amp_bf16": amp, "threads": torch.get_num_threads(),
           "stage": args.stage, "batch": args.batch, "image_size": args.image_size,
           "img_per_s": args.batch / step, "ms_per_step": 1e3 * step, "first_loss": first_loss,
           "peak_rss_mb": rss,
           "ms": {k: 1e3 * statistics.median(v) for k, v in phases.items()}}
    if cuda:
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    print(json.dumps(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""make_fixtures.py — write the PyTorch parity fixtures under tests/fixtures/ (small safetensors
files committed to the repository; `make test` compares burn against them tensor by tensor).

    python3 -m pip install torch safetensors numpy    # only to regenerate
    python3 tools/reference/make_fixtures.py [--out tests/fixtures] [--only NAME]

Each fixture is one full BURN step (METHOD.md §4) at batch 4, 32x32 inputs: a reduced-width
ReActNet-A student (stage 1 or 2) with its MLP head, a small ResNet-18 teacher (frozen, eval-
mode BN with non-trivial running statistics) with its trainable head, both views, the
symmetrised loss, every gradient and the BN running statistics after the step's forwards.
Conventions the C side must follow (also written to the file's metadata):
  - each view is its own forward pass (BN batch statistics per view), view 1 then view 2;
  - loss = L(t(v2), s(v1)) + L(t(v1), s(v2)), L per direction = Σ_batch / N;
  - gradients: d loss / d parameter for the student, student head and teacher head.
burn_step_stage1_features: the same step with loss.fs_on = features (METHOD.md §4): the
student's FC is as wide as the teacher's feature, per direction (1 − λ)·KL on the heads +
λ·FS between the student's feature and the teacher's (frozen) feature of the other view, so
the teacher head's gradient is the KL part alone.
Computed in float64 from float32-representable inputs and parameters; stored as float32.
Of 200 seeds, the one is kept whose sign inputs stay farthest from 0 and whose STE inputs stay
farthest from |x| = 1 (at least 5e-6 of the tensor's largest value; float32 rounding in burn is
~1e-7 of it), so that rounding cannot flip a sign and the comparison is meaningful at 1e-4."""
import argparse
import os
import sys

import numpy as np
import torch
from safetensors.numpy import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import burn_reference as R  # noqa: E402

MARGIN = 5e-6  # relative to the largest |value| entering that sign


class MarginProbe:
    """Records the smallest |x| / scale and ||x| − 1| / scale seen by any sign in a forward."""

    def __init__(self):
        self.min_zero = float("inf")
        self.min_one = float("inf")

    def __call__(self, x):
        scale = float(x.abs().max()) + 1e-30
        self.min_zero = min(self.min_zero, float(x.abs().min()) / scale)
        self.min_one = min(self.min_one, float((x.abs() - 1).abs().min()) / scale)


def build(seed, stage, width=1 / 16, head=64, act_grad="clip", weight_grad="identity",
          fs_on="outputs"):
    teacher_dim = None  # outputs: the student's FC keeps its width (and the fixtures their seeds)
    if fs_on == "features":
        teacher_dim = R.ResNet(depth=18, width=width, small_input=True).feature_dim
    torch.manual_seed(seed)
    student = R.ReActNetA(width=width, stem_stride=2, stage=stage, act_grad=act_grad,
                          weight_grad=weight_grad, feature_dim=teacher_dim).double()
    s_head = R.mlp_head(student.feature_dim, head, head).double()
    teacher = R.ResNet(depth=18, width=width, small_input=True).double()
    t_head = R.mlp_head(teacher.feature_dim, head, head).double()
    # make every initial value float32-representable, and give BN layers non-trivial values
    with torch.no_grad():
        for m in (student, s_head, teacher, t_head):
            for name, p in list(m.named_parameters()) + list(m.named_buffers()):
                if name.endswith("num_batches_tracked"):
                    continue
                if name.endswith("running_var"):
                    p.uniform_(0.5, 1.5)
                elif name.endswith("running_mean"):
                    p.uniform_(-0.2, 0.2)
                elif p.dim() == 1 and not name.endswith("running_var"):
                    p.add_(torch.empty_like(p).uniform_(-0.1, 0.1))
                p.copy_(p.float().double())
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return student, s_head, teacher, t_head


def state(prefix, module):
    return {prefix + k: v.detach().float().numpy().copy() for k, v in module.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def run(seed, stage, lam, fs, T=0.2, fs_on="outputs"):
    student, s_head, teacher, t_head = build(seed, stage, fs_on=fs_on)
    g = torch.Generator().manual_seed(seed + 1)
    v1 = torch.randn(4, 3, 32, 32, generator=g).float().double()
    v2 = torch.randn(4, 3, 32, 32, generator=g).float().double()
    params = {}
    for prefix, m in (("student.", student), ("student_head.", s_head), ("teacher.", teacher),
                      ("teacher_head.", t_head)):
        params.update(state(prefix, m))

    probe = MarginProbe()
    original = R.SignSTE.forward

    def probed(ctx, x, mode):
        probe(x)
        return original(ctx, x, mode)

    R.SignSTE.forward = staticmethod(probed)
    try:
        with torch.no_grad():
            f_t1, f_t2 = teacher(v1), teacher(v2)
        f_s1 = student(v1)
        s1 = s_head(f_s1)
        f_s2 = student(v2)
        s2 = s_head(f_s2)
        t1 = t_head(f_t1)
        t2 = t_head(f_t2)
    finally:
        R.SignSTE.forward = original
    if fs_on == "features":  # KL on the heads, FS between the backbones' features
        l12, kl12, fs12 = features_direction(t2, s1, f_t2, f_s1, lam, T, fs)
        l21, kl21, fs21 = features_direction(t1, s2, f_t1, f_s2, lam, T, fs)
    else:
        l12, kl12, fs12 = R.burn_loss_direction(t2, s1, lam, T, fs)  # t(v2) teaches s(v1)
        l21, kl21, fs21 = R.burn_loss_direction(t1, s2, lam, T, fs)
    loss = l12 + l21
    loss.backward()

    out = {"input.v1": v1.float().numpy(), "input.v2": v2.float().numpy()}
    out.update(params)
    for name, t in (("feat_s1", f_s1), ("feat_s2", f_s2), ("feat_t1", f_t1), ("feat_t2", f_t2),
                    ("s1", s1), ("s2", s2), ("t1", t1), ("t2", t2)):
        out["out." + name] = t.detach().float().numpy()
    loss = loss.detach()
    for name, t in (("loss", loss), ("kl_12", kl12), ("fs_12", fs12), ("kl_21", kl21),
                    ("fs_21", fs21)):
        out["out." + name] = np.array([float(t.detach())], dtype=np.float32)
    for prefix, m in (("student.", student), ("student_head.", s_head), ("teacher_head.", t_head)):
        for k, p in m.named_parameters():
            out["grad." + prefix + k] = p.grad.float().numpy()
        for k, b in m.named_buffers():
            if "running" in k:
                out["after." + prefix + k] = b.float().numpy()
    meta = {"stage": str(stage), "width": "0.0625", "image_size": "32", "stem_stride": "2",
            "teacher": "resnet18", "teacher_width": "0.0625", "teacher_small_input": "true",
            "head_hidden": "64", "head_out": "64", "lambda": repr(lam), "temperature": repr(T),
            "fs": fs, "fs_on": fs_on, "act_grad": "clip", "weight_grad": "identity", "batch": "4",
            "views": "separate forwards, view 1 then view 2", "seed": str(seed),
            "sign_margin": f"{probe.min_zero:.3g}", "ste_margin": f"{probe.min_one:.3g}"}
    return out, meta, probe


def features_direction(t, s, f_t, f_s, lam, T, fs):
    """loss.fs_on = features: (1 − λ)·KL(t, s) + λ·FS(f_t, f_s), batch means (loss, kl, fs)."""
    _, kl, _ = R.burn_loss_direction(t, s, 0.0, T, fs)
    _, _, f = R.burn_loss_direction(f_t, f_s, 1.0, T, fs)
    return (1 - lam) * kl + lam * f, kl, f


FIXTURES = {  # name: (stage, λ, FS measure, where FS applies)
    "burn_step_stage1": (1, 0.8, "cosine", "outputs"),
    "burn_step_stage2": (2, 0.75, "cosine", "outputs"),
    "burn_step_stage1_features": (1, 0.8, "cosine", "features"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="tests/fixtures")
    ap.add_argument("--only", choices=sorted(FIXTURES), help="write this fixture alone")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    for name, (stage, lam, fs, fs_on) in FIXTURES.items():
        if args.only and name != args.only:
            continue
        margin = lambda p: min(p.min_zero, p.min_one)  # noqa: E731
        seed = max(range(1000 * stage, 1000 * stage + 200),
                   key=lambda sd: margin(run(sd, stage, lam, fs, fs_on=fs_on)[2]))
        out, meta, probe = run(seed, stage, lam, fs, fs_on=fs_on)
        if margin(probe) < MARGIN:
            sys.exit(f"no seed with sign margin >= {MARGIN} for {name}")
        out = {k: np.ascontiguousarray(v) for k, v in out.items()}
        path = os.path.join(args.out, f"{name}.safetensors")
        save_file(out, path, metadata=meta)
        size = os.path.getsize(path)
        print(f"{path}: {len(out)} tensors, {size / 1024:.0f} KiB, seed {meta['seed']}, "
              f"loss {float(out['out.loss'][0]):.6f}, sign margin {meta['sign_margin']}")
        if name == "burn_step_stage1":
            write_teacher_checkpoints(seed, args.out)


def write_teacher_checkpoints(seed, out_dir):
    """The stage-1 fixture's teacher as PyTorch checkpoints, for tools/convert_teacher.py:
    MoCo v2 layout (zip format): {'state_dict': module.encoder_q.* with an MLP fc, module.
    encoder_k.*, module.queue}, and DataParallel layout in the legacy (torch < 1.6) format."""
    _, _, teacher, _ = build(seed, 1)
    q = {f"module.encoder_q.{k}": v.float().clone() for k, v in teacher.state_dict().items()}
    feat = teacher.feature_dim
    q["module.encoder_q.fc.0.weight"] = torch.randn(feat, feat).float()
    q["module.encoder_q.fc.0.bias"] = torch.zeros(feat).float()
    q["module.encoder_q.fc.2.weight"] = torch.randn(8, feat).float()
    q["module.encoder_q.fc.2.bias"] = torch.zeros(8).float()
    k = {key.replace("encoder_q", "encoder_k"): v.clone() for key, v in q.items()}
    state = {**q, **k, "module.queue": torch.randn(8, 16).float(),
             "module.queue_ptr": torch.zeros(1, dtype=torch.long)}
    torch.save({"epoch": 800, "arch": "resnet18", "state_dict": state,
                "optimizer": {"state": {}, "param_groups": [{"lr": 0.03}]}},
               os.path.join(out_dir, "teacher_moco.pth"))
    legacy = {f"module.{k}": v.float().clone() for k, v in teacher.state_dict().items()}
    torch.save(legacy, os.path.join(out_dir, "teacher_legacy.pth"),
               _use_new_zipfile_serialization=False)
    print(f"{out_dir}/teacher_moco.pth, {out_dir}/teacher_legacy.pth: the stage-1 teacher")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""make_resnet_fixture.py — PyTorch fixtures for the trainable ResNet and for MoCo v2 (METHOD.md §8):
tests/fixtures/resnet_train.safetensors and tests/fixtures/moco_step.safetensors (small files,
committed; tests/test_resnet_train.c and tests/test_moco.c compare burn against them).

    python3 -m pip install torch safetensors numpy    # only to regenerate
    python3 tools/reference/make_resnet_fixture.py [--out tests/fixtures]

resnet_train: two nets, batch 4, train-mode forward (batch-statistics BN) and backward of
loss = Σ feature·R for a random R (so dL/dfeature = R):
  "r18."  ResNet-18, width 1/16, small-input stem (conv3x3/1, no max pool), 16x16 inputs;
  "r50."  ResNet-50, width 1/32, ImageNet stem (conv7x7/2 + max pool 3x3/2), 48x48 inputs.
Per net: <net>.input, <net>.dfeature, the parameters and BN running statistics under
<net>.<torchvision name>, <net>.out.feature, <net>.grad.<name> for every trainable tensor,
<net>.grad.input, and <net>.after.<running stat> (after the forward's momentum-0.1 update).
Tiny ResNet-50s are badly conditioned in FP32 (2-channel BNs over few values amplify rounding
by 1e3 and more): for each compared tensor X the file also holds <net>.f32err.X, the relative
error max|X_fp32 − X_fp64| / max|X_fp64| of PyTorch's own FP32 run, and the C test accepts
max(1e-4, 4·f32err). The ResNet-50's seed is the one of 30 with the smallest such error.

moco_step: two MoCo v2 steps of ResNet-18 width 1/32 (small input, 16x16), batch 4, MLP head
F->F->16, queue 6 (not a multiple of the batch: the second enqueue wraps around the ring),
temperature 0.2, key-encoder EMA 0.99, SGD lr 0.1, momentum 0.9, weight decay 1e-4. Per step:
EMA of encoder k's parameters from encoder q (buffers are not averaged: encoder k's BN running
statistics follow its own train-mode forwards), keys k = normalize(head_k(f_k(im_k))),
q = normalize(head_q(f_q(im_q))), logits = [q·k, q·queueᵀ] / τ, cross-entropy with label 0,
SGD on encoder q, then the keys enter the queue at queue_ptr. Names: encoder_q.*,
encoder_k.* (torchvision backbone names, head fc.0 / fc.2 as in MoCo's code), queue [K, dim].
Stored: the initial state, the four inputs, out.loss1, out.loss2, grad1.encoder_q.* (the
first step's gradients), after.encoder_q.*, after.encoder_k.*, after.queue.

Computed in float64 from float32-representable values; stored as float32."""
import argparse
import copy
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.numpy import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import burn_reference as R  # noqa: E402


def f32(t):
    return t.detach().float().numpy().copy()


def perturb_(net, gen):
    """Non-trivial BN values and float32-representable parameters."""
    with torch.no_grad():
        for name, p in list(net.named_parameters()) + list(net.named_buffers()):
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                p.copy_(torch.rand(p.shape, generator=gen) + 0.5)
            elif name.endswith("running_mean"):
                p.copy_(torch.rand(p.shape, generator=gen) * 0.4 - 0.2)
            elif p.dim() == 1:
                p.add_(torch.rand(p.shape, generator=gen) * 0.2 - 0.1)
            p.copy_(p.float().double())


def state(prefix, net):
    return {prefix + k: f32(v) for k, v in net.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def forward_backward(net, x, r, dtype):
    """feature, input gradient, parameter gradients and running statistics after one
    train-mode forward/backward of a copy of net in dtype (named as in the fixture)."""
    net = copy.deepcopy(net).to(dtype)
    x = x.detach().to(dtype).requires_grad_(True)
    feat = net(x)
    (feat * r.to(dtype)).sum().backward()
    res = {"out.feature": feat.detach(), "grad.input": x.grad}
    res.update({f"grad.{k}": p.grad for k, p in net.named_parameters()})
    res.update({f"after.{k}": b for k, b in net.named_buffers() if "running" in k})
    return {k: v.detach().double() for k, v in res.items()}


def f32_error(ref, got):
    return {k: float((got[k] - v).abs().max() / v.abs().max().clamp_min(1e-30))
            for k, v in ref.items()}


def resnet_case(tag, depth, width, small, size, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    net = R.ResNet(depth=depth, width=width, small_input=small).double().train()
    perturb_(net, gen)
    x = torch.randn(4, 3, size, size, generator=gen).float().double()
    r = torch.randn(4, net.feature_dim, generator=gen).float().double()
    out = {f"{tag}.input": f32(x), f"{tag}.dfeature": f32(r)}
    out.update(state(tag + ".", net))
    ref = forward_backward(net, x, r, torch.float64)
    err = f32_error(ref, forward_backward(net, x, r, torch.float32))
    for k, v in ref.items():
        out[f"{tag}.{k}"] = f32(v)
        out[f"{tag}.f32err.{k}"] = np.array([err[k]], dtype=np.float32)
    return out, max(err.values())


class Encoder(nn.Module):
    """MoCo v2 encoder: ResNet backbone + MLP projection fc = (Linear F->F, ReLU, Linear F->dim);
    state-dict names as MoCo's encoder_q (backbone names, fc.0.*, fc.2.*)."""

    def __init__(self, depth, width, small, dim):
        super().__init__()
        self.backbone = R.ResNet(depth=depth, width=width, small_input=small)
        f = self.backbone.feature_dim
        self.fc = nn.Sequential(nn.Linear(f, f), nn.ReLU(), nn.Linear(f, dim))

    def forward(self, x):
        return F.normalize(self.fc(self.backbone(x)), dim=1)

    def named_state(self, prefix):
        d = {}
        for k, v in self.state_dict().items():
            if k.endswith("num_batches_tracked"):
                continue
            d[prefix + (k[len("backbone."):] if k.startswith("backbone.") else k)] = f32(v)
        return d


def moco_case(seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    N, dim, K, T, m = 4, 16, 6, 0.2, 0.99
    lr, mom, wd = 0.1, 0.9, 1e-4
    q_enc = Encoder(18, 1 / 32, True, dim).double().train()
    perturb_(q_enc, gen)
    k_enc = Encoder(18, 1 / 32, True, dim).double().train()
    k_enc.load_state_dict(q_enc.state_dict())
    with torch.no_grad():  # a key encoder that differs from q, so that the EMA shows
        for p in k_enc.parameters():
            p.add_(torch.randn(p.shape, generator=gen).double() * 0.05)
            p.copy_(p.float().double())
    queue = F.normalize(torch.randn(K, dim, generator=gen).double(), dim=1).float().double()
    ptr = 0
    ims = [torch.randn(N, 3, 16, 16, generator=gen).float().double() for _ in range(4)]
    out = {"input.q1": f32(ims[0]), "input.k1": f32(ims[1]), "input.q2": f32(ims[2]),
           "input.k2": f32(ims[3]), "queue": f32(queue)}
    out.update(q_enc.named_state("encoder_q."))
    out.update(k_enc.named_state("encoder_k."))
    opt = torch.optim.SGD(q_enc.parameters(), lr=lr, momentum=mom, weight_decay=wd)
    for step, (im_q, im_k) in enumerate(((ims[0], ims[1]), (ims[2], ims[3])), 1):
        with torch.no_grad():
            for pq, pk in zip(q_enc.parameters(), k_enc.parameters()):
                pk.mul_(m).add_(pq, alpha=1 - m)
            k = k_enc(im_k)
        q = q_enc(im_q)
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.t()], 1) / T
        loss = F.cross_entropy(logits, torch.zeros(N, dtype=torch.long))
        opt.zero_grad()
        loss.backward()
        out[f"out.loss{step}"] = np.array([float(loss.detach())], dtype=np.float32)
        if step == 1:
            for kname, p in q_enc.named_parameters():
                name = kname[len("backbone."):] if kname.startswith("backbone.") else kname
                out["grad1.encoder_q." + name] = f32(p.grad)
        opt.step()
        with torch.no_grad():
            for i in range(N):
                queue[(ptr + i) % K] = k[i]
            ptr = (ptr + N) % K
    out.update({"after." + k: v for k, v in q_enc.named_state("encoder_q.").items()})
    out.update({"after." + k: v for k, v in k_enc.named_state("encoder_k.").items()})
    out["after.queue"] = f32(queue)
    meta = {"arch": "resnet18", "width": "0.03125", "small_input": "true", "image_size": "16",
            "batch": str(N), "dim": str(dim), "queue": str(K), "temperature": repr(T),
            "ema": repr(m), "lr": repr(lr), "momentum": repr(mom), "weight_decay": repr(wd),
            "queue_ptr_after": str(ptr), "seed": str(seed)}
    return out, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="tests/fixtures")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    out, err18 = resnet_case("r18", 18, 1 / 16, True, 16, 11)
    seed50 = min(range(100, 130), key=lambda sd: resnet_case("r50", 50, 1 / 32, False, 48, sd)[1])
    out50, err50 = resnet_case("r50", 50, 1 / 32, False, 48, seed50)
    out.update(out50)
    meta = {"r18": "resnet18 width 0.0625 small_input 16x16 batch 4 seed 11",
            "r50": f"resnet50 width 0.03125 imagenet-stem 48x48 batch 4 seed {seed50}",
            "f32err": f"PyTorch FP32 worst relative error: r18 {err18:.3g}, r50 {err50:.3g}",
            "loss": "sum(feature * dfeature), BN in train mode"}
    path = os.path.join(args.out, "resnet_train.safetensors")
    save_file({k: np.ascontiguousarray(v) for k, v in out.items()}, path, metadata=meta)
    print(f"{path}: {len(out)} tensors, {os.path.getsize(path) / 1024:.0f} KiB; {meta['f32err']}")
    out, meta = moco_case(13)
    path = os.path.join(args.out, "moco_step.safetensors")
    save_file({k: np.ascontiguousarray(v) for k, v in out.items()}, path, metadata=meta)
    print(f"{path}: {len(out)} tensors, {os.path.getsize(path) / 1024:.0f} KiB, "
          f"losses {float(out['out.loss1'][0]):.6f} {float(out['out.loss2'][0]):.6f}")


if __name__ == "__main__":
    main()

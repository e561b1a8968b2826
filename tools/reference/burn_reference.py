"""burn_reference.py — PyTorch reference of what burn computes, written from docs/METHOD.md
(not copied from the authors' code): ReActNet-A (METHOD.md §2-3), the MLP head (§1), a torchvision-
structured ResNet (§8) and the BURN loss (§4). Parameter names match burn's registry
(src/model_*.c), so fixtures load tensor by tensor.

Used by make_fixtures.py to write the parity fixtures under tests/fixtures/, and by
convert_teacher.py's test. PyTorch is needed only to regenerate fixtures; `make test` never
imports this file."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def sign(x):
    """sign with sign(0) = +1 (METHOD.md §3): never 0, unlike torch.sign."""
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


class SignSTE(torch.autograd.Function):
    """Activation sign; backward `clip`: g·1[|x| <= 1], `approx`: g·(2 − 2|x|)·1[|x| < 1]."""

    @staticmethod
    def forward(ctx, x, mode):
        ctx.save_for_backward(x)
        ctx.mode = mode
        return sign(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.mode == "clip":
            return g * (x.abs() <= 1).to(g.dtype), None
        return g * torch.clamp(2 - 2 * x.abs(), min=0), None


class WeightSign(torch.autograd.Function):
    """Weight sign for stage 2; backward `identity` (dW = dWb, the α factor comes from the
    product with the detached α) or `clip` (ReActNet: dWb·1[|W| <= 1], METHOD.md §3)."""

    @staticmethod
    def forward(ctx, w, mode):
        ctx.save_for_backward(w)
        ctx.mode = mode
        return sign(w)

    @staticmethod
    def backward(ctx, g):
        (w,) = ctx.saved_tensors
        if ctx.mode == "identity":
            return g, None
        return g * (w.abs() <= 1).to(g.dtype), None


class RSign(nn.Module):
    def __init__(self, c, act_grad):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(c))
        self.act_grad = act_grad

    def forward(self, x):
        return SignSTE.apply(x - self.bias.view(1, -1, 1, 1), self.act_grad)


class RPReLU(nn.Module):
    """PReLU_c(x − γ_c) + ζ_c."""

    def __init__(self, c):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(c))
        self.slope = nn.Parameter(torch.full((c,), 0.25))
        self.zeta = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        v = x - self.gamma.view(1, -1, 1, 1)
        v = torch.where(v >= 0, v, v * self.slope.view(1, -1, 1, 1))
        return v + self.zeta.view(1, -1, 1, 1)


class BinConv(nn.Module):
    """Conv on binarised input (zero padding after the sign); stage 2 also binarises the
    weights: W_b = α_o·sign(W), α_o = mean|W_o| (a constant in backward)."""

    def __init__(self, cin, cout, k, stride, stage, weight_grad):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(cout, cin, k, k))
        nn.init.kaiming_normal_(self.weight, mode="fan_in", nonlinearity="relu")
        self.stride, self.pad, self.stage, self.weight_grad = stride, k // 2, stage, weight_grad

    def forward(self, xb):
        w = self.weight
        if self.stage == 2:
            alpha = w.abs().mean(dim=(1, 2, 3), keepdim=True).detach()
            w = alpha * WeightSign.apply(w, self.weight_grad)
        return F.conv2d(xb, w, stride=self.stride, padding=self.pad)


class Block(nn.Module):
    def __init__(self, cin, cout, stride, stage, act_grad, weight_grad):
        super().__init__()
        self.stride, self.same = stride, cin == cout
        self.move1 = RSign(cin, act_grad)
        self.conv3x3 = BinConv(cin, cin, 3, stride, stage, weight_grad)
        self.bn1 = nn.BatchNorm2d(cin)
        self.rprelu1 = RPReLU(cin)
        self.move2 = RSign(cin, act_grad)
        if self.same:
            self.conv1x1 = BinConv(cin, cin, 1, 1, stage, weight_grad)
            self.bn2 = nn.BatchNorm2d(cin)
        else:
            self.conv1x1_a = BinConv(cin, cin, 1, 1, stage, weight_grad)
            self.bn2_a = nn.BatchNorm2d(cin)
            self.conv1x1_b = BinConv(cin, cin, 1, 1, stage, weight_grad)
            self.bn2_b = nn.BatchNorm2d(cin)
        self.rprelu2 = RPReLU(cout)

    def forward(self, x):
        a = self.bn1(self.conv3x3(self.move1(x)))
        a = a + (F.avg_pool2d(x, 2, 2) if self.stride == 2 else x)
        a = self.rprelu1(a)
        y = self.move2(a)
        if self.same:
            b = self.bn2(self.conv1x1(y)) + a
        else:
            b = torch.cat([self.bn2_a(self.conv1x1_a(y)) + a, self.bn2_b(self.conv1x1_b(y)) + a], 1)
        return self.rprelu2(b)


CHANNEL_MULT = [1, 2, 4, 4, 8, 8, 16, 16, 16, 16, 16, 16, 32, 32]


class ReActNetA(nn.Module):
    """METHOD.md §2 with a width multiplier (stem width round(32·w), ratios kept exact)."""

    def __init__(self, width=1.0, stem_stride=2, stage=1, feature_fc=True, act_grad="clip",
                 weight_grad="identity", feature_dim=None):
        """feature_dim: the FC's output width (model.feature_dim; None = the pooled width)."""
        super().__init__()
        c0 = max(1, round(32 * width))
        ch = [c0 * m for m in CHANNEL_MULT]
        self.stem = nn.Module()
        self.stem.conv = nn.Conv2d(3, c0, 3, stem_stride, 1, bias=False)
        nn.init.kaiming_normal_(self.stem.conv.weight, mode="fan_in", nonlinearity="relu")
        self.stem.bn = nn.BatchNorm2d(c0)
        blocks = []
        for b in range(13):
            stride = 2 if (ch[b + 1] == 2 * ch[b] and b > 0) else 1
            blocks.append(Block(ch[b], ch[b + 1], stride, stage, act_grad, weight_grad))
        self.blocks = nn.ModuleList(blocks)
        self.feature_dim = (feature_dim or ch[-1]) if feature_fc else ch[-1]
        self.fc = nn.Linear(ch[-1], self.feature_dim) if feature_fc else None
        if self.fc is not None:
            nn.init.kaiming_normal_(self.fc.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        x = self.stem.bn(self.stem.conv(x))
        for blk in self.blocks:
            x = blk(x)
        x = x.mean(dim=(2, 3))
        return F.relu(self.fc(x)) if self.fc is not None else x


def mlp_head(cin, hidden, out):
    head = nn.Sequential(nn.Linear(cin, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, out))
    for i in (0, 3):
        nn.init.kaiming_normal_(head[i].weight, mode="fan_in", nonlinearity="relu")
        nn.init.zeros_(head[i].bias)
    return head


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, mid, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.downsample = None
        if stride != 1 or cin != mid:
            self.downsample = nn.Sequential(nn.Conv2d(cin, mid, 1, stride, bias=False), nn.BatchNorm2d(mid))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + idt)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, mid, stride):
        super().__init__()
        cout = mid * 4
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        return F.relu(self.bn3(self.conv3(y)) + idt)


class ResNet(nn.Module):
    """torchvision ResNet structure and names up to the global average pool (no fc)."""

    def __init__(self, depth=18, width=1.0, small_input=False):
        super().__init__()
        block, counts = {18: (BasicBlock, [2, 2, 2, 2]), 34: (BasicBlock, [3, 4, 6, 3]),
                         50: (Bottleneck, [3, 4, 6, 3])}[depth]
        base = max(1, round(64 * width))
        self.small_input = small_input
        self.conv1 = nn.Conv2d(3, base, 3 if small_input else 7, 1 if small_input else 2,
                               1 if small_input else 3, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        cin = base
        for L in range(4):
            blocks = []
            for b in range(counts[L]):
                blocks.append(block(cin, base << L, 2 if (L > 0 and b == 0) else 1))
                cin = (base << L) * block.expansion
            setattr(self, f"layer{L + 1}", nn.Sequential(*blocks))
        self.feature_dim = cin

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        if not self.small_input:
            x = F.max_pool2d(x, 3, 2, 1)
        for L in range(4):
            x = getattr(self, f"layer{L + 1}")(x)
        return x.mean(dim=(2, 3))


def burn_loss_direction(t, s, lam, T=0.2, fs="cosine"):
    """(1 − λ)·KL(softmax(t/T) ‖ softmax(s/T)) + λ·FS(t, s), summed over the batch / N.
    Returns (loss, kl, fs) as batch means."""
    log_pt = F.log_softmax(t / T, dim=1)
    log_ps = F.log_softmax(s / T, dim=1)
    kl = (log_pt.exp() * (log_pt - log_ps)).sum(dim=1)
    if fs == "cosine":
        f = (F.normalize(s, dim=1) - F.normalize(t, dim=1)).pow(2).sum(dim=1)
    elif fs == "l1":
        f = (s - t).abs().sum(dim=1)
    else:
        f = (s - t).pow(2).sum(dim=1)
    n = s.shape[0]
    return ((1 - lam) * kl + lam * f).sum() / n, kl.sum() / n, f.sum() / n


def burn_lambda(t, t_max, lam0=0.9, lamT=0.7):
    """METHOD.md §4: cosine from λ_0 at t = 0 to λ_T at t = T_max."""
    return lamT - (lamT - lam0) * (math.cos(math.pi * t / t_max) + 1) / 2

#!/usr/bin/env python3
"""convert_teacher.py — a PyTorch ResNet checkpoint -> burn's teacher file (safetensors).

    python3 tools/convert_teacher.py moco_v2_800ep_pretrain.pth.tar teacher.safetensors
    python3 tools/convert_teacher.py ckpt.pth out.safetensors --arch resnet18 --width 0.25 --small-input

Reads torchvision-named weights, with or without a prefix: MoCo v2's "module.encoder_q.",
OpenSelfSup's "backbone.", DataParallel's "module." (chosen automatically, or --prefix). Keeps
the backbone up to the global average pool: the fc / projection layers, the momentum encoder,
the queue and num_batches_tracked are dropped. Every remaining name and shape must match the
configured ResNet exactly; otherwise the converter stops and lists what differs, never writing a
partial file. burn_gpu loads the result as teacher.checkpoint.

No PyTorch needed: the checkpoint is read by a restricted unpickler (both the zip format of
torch >= 1.6 and the older format) that builds only tensors and plain containers and refuses
to run anything else. Needs numpy and safetensors (tools/install-deps.sh installs them)."""
import argparse
import collections
import io
import pickle
import struct
import sys
import zipfile

import numpy as np

STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16", "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
TORCH_DTYPES = {"float32": np.float32, "float": np.float32, "float64": np.float64,
                "double": np.float64, "float16": np.float16, "half": np.float16,
                "bfloat16": "bfloat16", "int64": np.int64, "long": np.int64,
                "int32": np.int32, "int": np.int32, "int16": np.int16, "int8": np.int8,
                "uint8": np.uint8, "bool": np.bool_}


class ConvertError(Exception):
    pass


class Opaque:
    """Stands in for any non-tensor object in a checkpoint (argparse.Namespace, config
    objects): accepts whatever state pickle gives it and never runs code."""

    def __init__(self, *args, **kwargs):
        self.args = args

    def __setstate__(self, state):
        self.state = state


class Storage:
    def __init__(self, dtype, data):
        self.dtype, self.data = dtype, data  # data: raw little-endian bytes


class StorageType:
    def __init__(self, name):
        self.name = name


def _as_array(storage, offset, size, stride):
    dt = storage.dtype
    if dt == "bfloat16":  # widen to float32: bf16 is the top half of an f32
        raw = np.frombuffer(storage.data, dtype="<u2").astype(np.uint32) << 16
        flat = raw.view(np.float32)
    else:
        flat = np.frombuffer(storage.data, dtype=np.dtype(dt).newbyteorder("<"))
    if len(size) == 0:
        return flat[offset:offset + 1].reshape(()).copy()
    itemsize = flat.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(flat[offset:], shape=tuple(size),
                                           strides=tuple(s * itemsize for s in stride))
    return np.ascontiguousarray(view)


class PendingTensor:
    """A tensor whose storage bytes may not be read yet (the legacy format stores them after
    the pickle); resolved into a numpy array by _resolve once everything is read."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def _rebuild_tensor(storage, storage_offset, size, stride, *unused):
    return PendingTensor(storage, storage_offset, size, stride)


def _resolve(obj):
    if isinstance(obj, PendingTensor):
        if obj.storage.data is None:
            raise ConvertError("a tensor's storage is missing from the checkpoint")
        return _as_array(obj.storage, obj.offset, obj.size, obj.stride)
    if isinstance(obj, dict):
        return type(obj)((k, _resolve(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_resolve(v) for v in obj)
    return obj


def _rebuild_parameter(data, *unused):
    return data


class RestrictedUnpickler(pickle.Unpickler):
    """Builds tensors (as numpy arrays) and containers; every other class becomes Opaque."""

    def __init__(self, f, load_storage):
        super().__init__(f)
        self.load_storage = load_storage

    def find_class(self, module, name):
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name.endswith("Storage"):
            return StorageType(name)
        if module == "torch" and name in TORCH_DTYPES:
            return name
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "builtins" and name in ("set", "frozenset", "list", "dict", "tuple", "slice"):
            return getattr(__builtins__, name) if hasattr(__builtins__, name) else __builtins__[name]
        return Opaque

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel[, view_metadata])
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise ConvertError(f"unsupported persistent id {pid!r}")
        stype, key = pid[1], str(pid[2])
        if isinstance(stype, StorageType):
            dtype = STORAGE_DTYPES.get(stype.name)
        else:  # torch >= 2: TypedStorage gives the dtype name
            dtype = TORCH_DTYPES.get(str(stype))
        if dtype is None:
            raise ConvertError(f"unsupported storage type {stype!r}")
        return self.load_storage(key, dtype)


def load_checkpoint(path):
    """The unpickled checkpoint object, tensors as numpy arrays."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
            if not pkl:
                raise ConvertError("zip checkpoint without data.pkl")
            root = pkl[0][: -len("data.pkl")]

            def load_storage(key, dtype):
                return Storage(dtype, z.read(f"{root}data/{key}"))

            return _resolve(RestrictedUnpickler(io.BytesIO(z.read(pkl[0])), load_storage).load())
    with open(path, "rb") as f:  # legacy format (torch < 1.6)
        data = f.read()
    stream = io.BytesIO(data)
    try:
        magic = pickle.Unpickler(stream).load()
    except Exception:
        magic = None
    if magic != 0x1950A86A20F9469CFC6C:
        raise ConvertError("not a PyTorch checkpoint (neither zip nor legacy magic number)")
    pickle.Unpickler(stream).load()  # protocol version
    pickle.Unpickler(stream).load()  # sys info
    pending = {}

    def load_storage(key, dtype):
        pending.setdefault(key, Storage(dtype, None))
        return pending[key]

    obj = RestrictedUnpickler(stream, load_storage).load()
    keys = pickle.Unpickler(stream).load()
    for key in keys:
        (numel,) = struct.unpack("<q", stream.read(8))
        st = pending[str(key)]
        size = 2 if st.dtype == "bfloat16" else np.dtype(st.dtype).itemsize
        st.data = stream.read(numel * size)
        if len(st.data) != numel * size:
            raise ConvertError("truncated legacy checkpoint")
    return _resolve(obj)


def find_state_dict(obj):
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state", "net"):
            if key in obj and isinstance(obj[key], dict):
                return obj[key]
        if any(isinstance(v, np.ndarray) for v in obj.values()):
            return obj
    raise ConvertError("no state dict found (looked for 'state_dict', 'model' or tensors at the top)")


def resnet_spec(depth, width, small_input):
    """{name: shape} of burn's ResNet (src/nn/model_resnet.c), torchvision names, no fc."""
    blocks, bottleneck = {18: ([2, 2, 2, 2], False), 34: ([3, 4, 6, 3], False),
                          50: ([3, 4, 6, 3], True)}[depth]
    base = max(1, round(64 * width))
    spec = collections.OrderedDict()

    def bn(name, c):
        for s in ("weight", "bias", "running_mean", "running_var"):
            spec[f"{name}.{s}"] = (c,)

    k0 = 3 if small_input else 7
    spec["conv1.weight"] = (base, 3, k0, k0)
    bn("bn1", base)
    cin = base
    for L in range(4):
        mid = base << L
        cout = mid * (4 if bottleneck else 1)
        for b in range(blocks[L]):
            p = f"layer{L + 1}.{b}"
            stride = 2 if (L > 0 and b == 0) else 1
            if bottleneck:
                convs = [(cin, mid, 1), (mid, mid, 3), (mid, cout, 1)]
            else:
                convs = [(cin, mid, 3), (mid, cout, 3)]
            for i, (ci, co, k) in enumerate(convs):
                spec[f"{p}.conv{i + 1}.weight"] = (co, ci, k, k)
                bn(f"{p}.bn{i + 1}", co)
            if stride != 1 or cin != cout:
                spec[f"{p}.downsample.0.weight"] = (cout, cin, 1, 1)
                bn(f"{p}.downsample.1", cout)
            cin = cout
    return spec


PREFIXES = ("module.encoder_q.", "encoder_q.", "module.backbone.", "backbone.", "module.", "")


def infer_arch(state, prefix=None):
    """(depth, width, small_input) from the tensor shapes: conv1 gives the base width (64·w) and
    its kernel (7: ImageNet stem, 3: small inputs); a conv3 in layer1.0 means bottlenecks
    (ResNet-50); the block count of layer3 tells 18 (2) from 34 (6)."""
    for pre in ([prefix] if prefix is not None else PREFIXES):
        w = state.get(pre + "conv1.weight")
        if not isinstance(w, np.ndarray) or w.ndim != 4:
            continue
        blocks = {k[len(pre):].split(".")[1] for k in state if k.startswith(pre + "layer3.")}
        n3 = len([b for b in blocks if b.isdigit()])
        bottleneck = isinstance(state.get(pre + "layer1.0.conv3.weight"), np.ndarray)
        depth = 50 if bottleneck else (18 if n3 == 2 else 34 if n3 == 6 else None)
        if depth is None:
            raise ConvertError(f"layer3 has {n3} blocks: not a ResNet-18/34/50 (give --arch)")
        return depth, w.shape[0] / 64.0, w.shape[2] == 3
    raise ConvertError("no conv1.weight found: cannot tell the architecture (give --arch, "
                       "--width and --small-input, or --prefix)")


def convert(state, spec, prefix=None):
    """{name: float32 array} in spec order, or ConvertError listing the differences."""
    candidates = [prefix] if prefix is not None else PREFIXES
    best = None
    for pre in candidates:
        picked = {k[len(pre):]: v for k, v in state.items()
                  if k.startswith(pre) and isinstance(v, np.ndarray)}
        hits = sum(1 for k in spec if k in picked)
        if best is None or hits > best[0]:
            best = (hits, pre, picked)
    hits, pre, picked = best
    if hits == 0:
        raise ConvertError("no ResNet weights found (is this a ResNet checkpoint? try --prefix)")
    dropped = [k for k in picked if k not in spec and not k.endswith("num_batches_tracked")
               and not k.startswith("fc.")]
    missing = [k for k in spec if k not in picked]
    wrong = [f"{k}: checkpoint {tuple(picked[k].shape)}, expected {spec[k]}"
             for k in spec if k in picked and tuple(picked[k].shape) != spec[k]]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing, e.g. {', '.join(missing[:4])}")
    if dropped:
        problems.append(f"{len(dropped)} unexpected, e.g. {', '.join(dropped[:4])}")
    if wrong:
        problems.append(f"{len(wrong)} with another shape, e.g. {'; '.join(wrong[:3])}")
    if problems:
        raise ConvertError(f"prefix '{pre}': " + " | ".join(problems) +
                           " (check --arch/--width/--small-input)")
    out = collections.OrderedDict()
    for k in spec:
        a = np.asarray(picked[k], dtype=np.float32)
        if not np.all(np.isfinite(a)):
            raise ConvertError(f"{k} holds non-finite values")
        out[k] = np.ascontiguousarray(a)
    return out, pre


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch ResNet checkpoint -> burn teacher safetensors")
    ap.add_argument("checkpoint")
    ap.add_argument("output")
    ap.add_argument("--arch", default="auto", choices=["auto", "resnet18", "resnet34", "resnet50"],
                    help="default: from the tensor shapes")
    ap.add_argument("--width", type=float, default=None, help="default: from conv1 (its width / 64)")
    ap.add_argument("--small-input", action="store_true", default=None,
                    help="conv1 3x3/1 without max pool (default: from conv1's kernel)")
    ap.add_argument("--prefix", default=None, help="name prefix to strip (default: detect)")
    args = ap.parse_args(argv)
    try:
        state = find_state_dict(load_checkpoint(args.checkpoint))
        if args.arch == "auto" or args.width is None or args.small_input is None:
            depth, width, small = infer_arch(state, args.prefix)
            args.arch = f"resnet{depth}" if args.arch == "auto" else args.arch
            args.width = width if args.width is None else args.width
            args.small_input = small if args.small_input is None else args.small_input
            print(f"convert_teacher: {args.arch}, width {args.width:g}, small input "
                  f"{str(args.small_input).lower()} (from the tensor shapes where not given)")
        spec = resnet_spec(int(args.arch[6:]), args.width, args.small_input)
        tensors, pre = convert(state, spec, args.prefix)
    except (ConvertError, OSError, pickle.UnpicklingError, EOFError, KeyError, ValueError) as e:
        print(f"convert_teacher: {args.checkpoint}: {e}", file=sys.stderr)
        return 1
    from safetensors.numpy import save_file
    meta = {"arch": args.arch, "width": repr(args.width), "small_input": str(args.small_input).lower(),
            "source": args.checkpoint, "stripped_prefix": pre, "format": "burn-teacher"}
    tmp = args.output + ".tmp"
    save_file(dict(tensors), tmp, metadata=meta)
    import os
    os.replace(tmp, args.output)
    n = sum(a.size for a in tensors.values())
    print(f"convert_teacher: {len(tensors)} tensors, {n} values, prefix '{pre}' -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

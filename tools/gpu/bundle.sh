#!/usr/bin/env bash
# bundle.sh — make burn runnable on a GPU machine that has a driver and CUDA libraries but no
# package registry (a lent cluster node, an air-gapped box).
#
# On the build machine (nvcc, cuBLAS, cuDNN, NCCL installed; no GPU needed):
#     tools/gpu/bundle.sh [DIR]          # default DIR = .gpu
# builds burn with the CUDA backend and copies into DIR: burn_gpu, burn_bench, the GPU test
# binaries (tests/gpu/; the CPU tests are `make test`'s), and every non-CUDA shared library they
# load (from ldd; glibc itself excluded), then packs DIR into DIR.tar.xz (debug info stripped
# from the copies: ~12 MB, what travels to a lent GPU; tools/gpu/device_check.sh unpacks it
# there). CUDA libraries are NOT copied: use the target machine's own.
# On the GPU machine, from the repository root (tests read files relative to it):
#     source DIR/env.sh                  # finds that machine's cudart/cuBLAS/cuDNN/NCCL
#     DIR/burn_gpu info                  # shows the GPU
#     bash tests/run.sh DIR/tests/gpu/*  # the GPU tests
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-.gpu}
make -j"$(nproc)" all test-bins >/dev/null
grep -q "cuda backend: built in" <(./burn_gpu info) || {
    echo "bundle: this build has no CUDA backend (is the CUDA toolkit complete? see make's ✓/✗ line)" >&2
    exit 1
}
rm -rf "$out"
mkdir -p "$out/lib" "$out/tests/gpu"
cp burn_gpu burn_bench "$out/"
find build/tests/gpu -maxdepth 1 -type f -executable -exec cp {} "$out/tests/gpu/" \;
# non-CUDA, non-glibc libraries the binaries need
skip='lib(cuda|cudart|cublas|cublasLt|cudnn|nccl|nvrtc|c|m|dl|rt|pthread|resolv)\.so|ld-linux|linux-vdso'
for bin in "$out"/burn_gpu "$out"/burn_bench "$out"/tests/gpu/*; do
    ldd "$bin" | awk '/=> \// {print $3}'
done | sort -u | grep -Ev "/($skip)" | while read -r lib; do cp -L "$lib" "$out/lib/"; done
cp tools/gpu/env.sh "$out/env.sh"
strip --strip-debug "$out"/burn_gpu "$out"/burn_bench "$out"/tests/gpu/*
rm -f "$out.tar.gz"
XZ_OPT=-6 tar -cJf "$out.tar.xz" "$out"
du -sh "$out" "$out.tar.xz" | awk '{print "bundle: " $2 " is " $1}'

#!/usr/bin/env bash
# prepare_mnist.sh — the 4 MNIST IDX files (gzip) for transfer evaluation
# (configs/fmnist/transfer_mnist.ini reads them directly: data.source = idx).
#   tools/prepare_mnist.sh [OUT]       (default: data/mnist)
# Downloads from MNIST_MIRROR (default: the mirror torchvision uses) with curl or wget and
# checks each file's MD5. Idempotent: files already present with the right MD5 are kept.
# Offline: copy the 4 files into OUT by hand; this script then only checks them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-data/mnist}
mirror=${MNIST_MIRROR:-https://ossci-datasets.s3.amazonaws.com/mnist}
files=(
    "train-images-idx3-ubyte.gz f68b3c2dcbeaaa9fbdd348bbdeb94873"
    "train-labels-idx1-ubyte.gz d53e105ee54ea40749a09fcbcd1e9432"
    "t10k-images-idx3-ubyte.gz 9fb629c4189551a2d022fa330f9573f3"
    "t10k-labels-idx1-ubyte.gz ec29112dd5afa0611ce80d1b7f02629c"
)
mkdir -p "$out"
for entry in "${files[@]}"; do
    name=${entry%% *}
    md5=${entry##* }
    path="$out/$name"
    if [ -e "$path" ] && [ "$(md5sum "$path" | cut -d' ' -f1)" = "$md5" ]; then
        continue
    fi
    echo "prepare_mnist: fetching $name" >&2
    if command -v curl >/dev/null; then
        curl -fsSL --retry 3 -o "$path.part" "$mirror/$name"
    elif command -v wget >/dev/null; then
        wget -q -O "$path.part" "$mirror/$name"
    else
        echo "prepare_mnist: neither curl nor wget; copy $name into $out by hand" >&2
        exit 1
    fi
    got=$(md5sum "$path.part" | cut -d' ' -f1)
    if [ "$got" != "$md5" ]; then
        rm -f "$path.part"
        echo "prepare_mnist: $name has MD5 $got, expected $md5 (bad mirror or download)" >&2
        exit 1
    fi
    mv "$path.part" "$path"
done
echo "prepare_mnist: MNIST IDX files ready in $out" >&2

#!/usr/bin/env bash
# prepare_fashion_mnist.sh — Fashion-MNIST as an ImageFolder tree of PNG files (for demos and
# tests of the real decode path): OUT/train/<label>-<name>/*.png (60000), OUT/test/... (10000).
#   tools/prepare_fashion_mnist.sh [OUT]      (default: data/fashion-mnist)
# The IDX files come from Debian's dataset-fashion-mnist package (tools/install-deps.sh
# installs it; they live in /usr/share/datasets/fashion-mnist). Idempotent: a complete OUT is
# left alone (OUT/.complete); about 5 s otherwise. BURN_GPU=path picks the burn_gpu binary.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-data/fashion-mnist}
idx=${FASHION_MNIST_IDX:-/usr/share/datasets/fashion-mnist}
if [ ! -e "$idx/train-images-idx3-ubyte.gz" ] && [ ! -e "$idx/train-images-idx3-ubyte" ]; then
    echo "prepare_fashion_mnist: no Fashion-MNIST IDX files in $idx;" \
         "run tools/install-deps.sh (Debian package dataset-fashion-mnist)" >&2
    exit 1
fi
bin=${BURN_GPU:-./burn_gpu}
if [ ! -x "$bin" ]; then
    make --no-print-directory burn_gpu >/dev/null
fi
exec "$bin" prepare-fashion-mnist --idx-dir "$idx" --out "$out"

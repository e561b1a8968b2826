#!/usr/bin/env bash
# install-deps.sh — install what burn needs to build and test, and nothing that is present.
# Idempotent: checks each Debian package and Python module first; apt-get/pip run only for
# what is missing. The CUDA toolkit is expected on the machine already and is never fetched.
set -euo pipefail

debs=(
    build-essential pkg-config
    libopenblas-dev        # CPU GEMM (headers)
    libopenblas0-openmp    # its OpenMP build, which burn links (one thread pool with burn's loops)
    libopenmpi-dev openmpi-bin  # data parallelism (mpirun)
    libcjson-dev           # safetensors headers, JSON output
    zlib1g-dev             # gzip IDX files (CRC-checked inflate)
    liblinear-dev          # linear SVMs of `eval svm`
    libcriterion-dev       # C tests
    libstb-dev             # PNG decoding, image writing
    libjpeg-dev            # JPEG decoding (libjpeg-turbo)
    dataset-fashion-mnist  # IDX files for tools/prepare_fashion_mnist.sh (demo data)
)
# `install-deps.sh fuzz` (make fuzz): clang and its libFuzzer runtime too; make test needs neither
if [ "${1:-}" = fuzz ]; then debs+=(clang libclang-rt-dev); fi
py_modules=(numpy safetensors matplotlib)   # interop test, tools/plot_metrics.py

missing=()
for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python modules go into the project's virtualenv (.venv, or $BURN_VENV), never the system
# interpreter; `make` puts its bin/ first on PATH, by hand: . .venv/bin/activate
venv=${BURN_VENV:-$(cd "$(dirname "$0")/.." && pwd)/.venv}
if [ ! -x "$venv/bin/python3" ]; then
    echo "install-deps: creating the virtualenv $venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then # Debian's python3 needs python3-venv
        SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
        rm -rf "$venv"
        python3 -m venv "$venv"
    fi
fi
py=$venv/bin/python3
py_missing=()
for m in "${py_modules[@]}"; do
    "$py" -c "import $m" 2>/dev/null || py_missing+=("$m")
done
if [ ${#py_missing[@]} -gt 0 ]; then
    echo "install-deps: pip installing ${py_missing[*]} into $venv"
    "$py" -m pip install -q --disable-pip-version-check "${py_missing[@]}"
    for m in "${py_missing[@]}"; do "$py" -c "import $m"; done
fi
echo "install-deps: all dependencies present"

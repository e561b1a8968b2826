# env.sh — source on the GPU machine: puts the bundle's libraries and that machine's CUDA
# libraries (cudart, cuBLAS, cuDNN, NCCL; from ldconfig, /usr/local/cuda*, or the nvidia-*
# Python wheels) on LD_LIBRARY_PATH. Prints what it found; says which library is missing.
_burn_bundle=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_burn_dirs="$_burn_bundle/lib"
for _lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcudnn.so.9 libnccl.so.2; do
    _path=$(ldconfig -p 2>/dev/null | awk -v l="$_lib" '$1 == l {print $NF; exit}')
    if [ -z "$_path" ]; then
        _path=$(find /usr/local/cuda*/lib* /usr/local/lib /usr/lib /opt \
                     /usr/local/lib/python3*/dist-packages /opt/*/.venv/lib/python3*/site-packages \
                     -name "$_lib" 2>/dev/null | head -n 1)
    fi
    if [ -n "$_path" ]; then
        echo "env.sh: $_lib -> $_path"
        _burn_dirs="$_burn_dirs:$(dirname "$_path")"
    else
        echo "env.sh: $_lib not found on this machine" >&2
    fi
done
export LD_LIBRARY_PATH="$_burn_dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset _burn_bundle _burn_dirs _lib _path

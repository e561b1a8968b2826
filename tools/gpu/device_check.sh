#!/usr/bin/env bash
# device_check.sh — everything this project checks on a lent GPU, in one call that fits a lease.
# Run from the repository root on the GPU machine, after tools/gpu/bundle.sh made .gpu.tar.xz
# here (or .gpu/) and it travelled along:
#     bash tools/gpu/device_check.sh [SECONDS [GROUP...]]   # deadline (default 330), groups
# Groups (default all, in this order; each step's timeout is cut to what is left):
#   tests     the GPU's description, `burn_gpu selftest --device cuda`, every tests/gpu binary
#             (four at a time), one test binary under compute-sanitizer's memcheck
#   bench     burn_bench gemm|conv|loss|blas on CUDA (gemm and conv with both xnor kernels)
#   train     tiny-config trainings in fp32, bf16 and fp16
#   imagenet  ImageNet shapes on synthetic 224x224 images: MoCo v2 ResNet-50 (batch 256), then
#             BURN stage 1 (fp32, bf16) and stage 2 (fp32) at METHOD.md's 256 per GPU, with
#             train.profile (ms per update of each phase)
#   demo      `make demo`'s pipeline (tools/demo.sh) on the GPU, when the Fashion-MNIST IDX
#             files travelled in .fmnist/ (mkdir .fmnist; cp /usr/share/datasets/fashion-mnist/
#             *.gz .fmnist/ — 30 MB — and carry it with the bundle); not in the default set
# Full logs go to $OUT (or ./device-out): check.log (everything), bench.jsonl (the benchmarks'
# JSON objects). The last lines printed are the log's key lines and a line per step.
set -u
deadline=$((SECONDS + ${1:-330}))
shift || true
groups=${*:-tests bench train imagenet}
out=${OUT:-device-out}
mkdir -p "$out"
log="$out/check.log"
: >"$log"
summary=()

if [ -f .gpu.tar.xz ]; then # python3's lzma where the machine has no xz
    tar -xJf .gpu.tar.xz 2>/dev/null ||
        python3 -c "import tarfile; tarfile.open('.gpu.tar.xz').extractall()"
fi
[ -x .gpu/burn_gpu ] || { echo "device_check: no .gpu bundle (run tools/gpu/bundle.sh)"; exit 2; }
cp .gpu/burn_gpu .gpu/burn_bench .   # tests run ./burn_gpu and ./burn_bench
# shellcheck source=/dev/null
source .gpu/env.sh >>"$log" 2>&1

# step NAME SECONDS CMD...: run CMD (output appended to the log) under min(SECONDS, time left)
step() {
    local name=$1 want=$2 left=$((deadline - SECONDS))
    shift 2
    if [ "$left" -lt 5 ]; then
        summary+=("$(printf '%-28s not run (deadline)' "$name")")
        return
    fi
    [ "$want" -gt "$left" ] && want=$left
    local t0=$SECONDS
    echo "=== $name: $*" >>"$log"
    timeout -k 5 "$want" "$@" >>"$log" 2>&1
    local rc=$?
    summary+=("$(printf '%-28s rc=%-3s %4ss' "$name" "$rc" $((SECONDS - t0)))")
}

step nvidia-smi 15 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm \
    --format=csv
step info 20 ./burn_gpu info

if [[ " $groups " == *" tests "* ]]; then
    step selftest 90 bash -o pipefail -c "./burn_gpu selftest --device cuda --verbose | \
        grep -E 'FAIL|tensors|stage|passed'"
    tlog=$(mktemp -d)
    step gpu-tests 150 bash -c "ls .gpu/tests/gpu/test_gpu_* | xargs -P 4 -I{} sh -c \
        'timeout -k 5 120 bash tests/run.sh {} >$tlog/\$(basename {}).log 2>&1'"
    for f in "$tlog"/*.log; do
        [ -f "$f" ] || continue
        echo "=== $(basename "$f" .log)" >>"$log"
        cat "$f" >>"$log"
        summary+=("$(printf '  %-26s %s' "$(basename "$f" .log)" "$(tail -n 1 "$f")")")
    done
    step "memcheck test_gpu_xnor" 60 compute-sanitizer --tool memcheck --target-processes all \
        --error-exitcode 9 .gpu/tests/gpu/test_gpu_xnor -j1
fi

if [[ " $groups " == *" bench "* ]]; then
    for b in gemm conv loss blas; do
        step "bench $b" 60 bash -o pipefail -c \
            "./burn_bench $b --device cuda --json | tee -a $out/bench.jsonl"
    done
    for b in gemm conv; do # the other kernel (auto is mma on sm_80+)
        step "bench $b --kernel popc" 60 bash -o pipefail -c \
            "./burn_bench $b --device cuda --kernel popc --json | tee -a $out/bench.jsonl"
    done
fi

if [[ " $groups " == *" train "* ]]; then
    for p in fp32 bf16 fp16; do
        step "train tiny $p" 40 ./burn_gpu train --config configs/tiny/burn.ini --device cuda \
            --set run.dir=/tmp/burn-tiny-$p --set train.precision=$p --set train.max_steps=20
    done
fi

if [[ " $groups " == *" imagenet "* ]]; then
    syn="--set data.source=synthetic --set data.synthetic_size=256 --set data.workers=16"
    step "moco r50 b256" 90 ./burn_gpu pretrain-teacher \
        --config configs/imagenet/moco_v2_teacher.ini --device cuda --set run.dir=/tmp/r50 $syn \
        --set data.synthetic_count=3072 --set moco.epochs=1 --set moco.queue=16384 \
        --set log.every=4
    for run in "fp32 1" "bf16 1" "fp32 2"; do
        set -- $run
        step "burn imagenet $1 stage $2" 90 ./burn_gpu train \
            --config configs/imagenet/burn_stage1.ini --device cuda \
            --set run.dir=/tmp/burn-in-$1-$2 $syn --set data.synthetic_count=8192 \
            --set teacher.checkpoint=/tmp/r50/teacher.safetensors --set train.precision=$1 \
            --set model.stage=$2 --set train.accum=1 --set train.warmup_epochs=0 \
            --set train.max_steps=12 --set log.every=4 --set train.profile=true
    done
fi

if [[ " $groups " == *" demo "* ]]; then
    if [ -f .fmnist/train-images-idx3-ubyte.gz ]; then
        step demo 400 env FASHION_MNIST_IDX=.fmnist BIN=. bash tools/demo.sh
        cp runs/demo/results.json "$out/demo_results.json" 2>/dev/null || true
    else
        summary+=("demo                         not run (no .fmnist/*.gz carried)")
    fi
fi

echo "---- key lines of the log ----"
grep -E "^=== |img_per_s|median|FAIL|rror" "$log" | cut -c1-400 | tail -n 60
echo "---- summary ($log) ----"
printf '%s\n' "${summary[@]}"

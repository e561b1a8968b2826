#!/usr/bin/env bash
# step_vs_torch.sh — burn's BURN training update against PyTorch eager's, side by side on the
# same machine: `burn_bench step` (tools/bench/bench_step.c) and tools/bench/torch_step.py at
# the same shapes, alternating which goes first in each round, medians over the rounds; prints
# a table and writes runs/bench/step_vs_torch.json. Cases: demo1 demo2 (configs/demo, batch
# 128 at 32x32) and imagenet1 imagenet2 (configs/imagenet at 224, batch $IMAGENET_BATCH, 8).
#   tools/bench/step_vs_torch.sh [--device cpu|cuda] [--rounds N] [--baseline BIN] [CASE ...]
# --baseline BIN: another burn_bench (e.g. built from main) measured in the same rounds.
# PyTorch: the machine's own if `python3 -c "import torch"` works (the lent GPU machines), else
# a virtualenv of its own ($BURN_BENCH_VENV, default .venv-bench) with `pip install torch`
# (from PyPI that is the CUDA build, ~5 GB, which runs on the CPU too). Never part of make test.
# On CUDA the PyTorch side runs channels-last with bf16 autocast (torch_step.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
device=cpu rounds=5 cases=() baseline=
while [ $# -gt 0 ]; do
    case $1 in
    --device) device=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) cases+=("$1"); shift ;;
    esac
done
[ ${#cases[@]} -gt 0 ] || cases=(demo1 demo2 imagenet1 imagenet2)
bench=${BURN_BENCH:-./burn_bench}
[ -x "$bench" ] || { echo "step_vs_torch: build burn_bench first (make)" >&2; exit 2; }

py=python3
if ! $py -c "import torch" 2>/dev/null; then
    venv=${BURN_BENCH_VENV:-.venv-bench}
    if ! "$venv/bin/python3" -c "import torch" 2>/dev/null; then
        echo "step_vs_torch: installing PyTorch into $venv (a few GB)"
        python3 -m venv "$venv"
        "$venv/bin/python3" -m pip install -q --disable-pip-version-check torch numpy
    fi
    py=$venv/bin/python3
fi
threads=$(nproc)
ib=${IMAGENET_BATCH:-8}
burn_args() { # case -> burn_bench step arguments
    case $1 in
    demo1) echo "--config configs/demo/stage1.ini" ;;
    demo2) echo "--config configs/demo/stage2.ini" ;;
    imagenet1) echo "--config configs/imagenet/burn_stage1.ini --set train.batch_size=$ib --steps 4 --warmup 1" ;;
    imagenet2) echo "--config configs/imagenet/burn_stage2.ini --set train.batch_size=$ib --steps 4 --warmup 1" ;;
    *) echo "step_vs_torch: unknown case $1 (demo1 demo2 imagenet1 imagenet2)" >&2; exit 2 ;;
    esac
}
torch_args() { # the same shapes for torch_step.py
    case $1 in
    demo1|demo2) echo "--stage ${1#demo} --width 0.25 --image-size 32 --batch 128 --teacher-depth 18 --teacher-width 0.25 --head 512 512" ;;
    imagenet1|imagenet2) echo "--stage ${1#imagenet} --width 1 --image-size 224 --batch $ib --teacher-depth 50 --teacher-width 1 --head 2000 2000 --steps 4 --warmup 1" ;;
    esac
}
mkdir -p runs/bench
log=runs/bench/step_vs_torch.jsonl
: > "$log"
for c in "${cases[@]}"; do
    ba=$(burn_args "$c") ta=$(torch_args "$c")
    for r in $(seq 1 "$rounds"); do
        # alternate the order: neither program always runs on a machine the other just warmed
        order="burn torch${baseline:+ baseline}"
        [ $((r % 2)) = 1 ] || order="${baseline:+baseline }torch burn"
        for who in $order; do
            if [ $who = burn ]; then
                line=$($bench step $ba --set run.device=$device --json)
            elif [ $who = baseline ]; then
                line=$($baseline step $ba --set run.device=$device --json | sed 's/"program": "burn"/"program": "baseline"/')
            else
                line=$($py tools/bench/torch_step.py $ta --device $device --threads $threads)
            fi
            echo "{\"case\": \"$c\", \"round\": $r, \"result\": $line}" >> "$log"
        done
    done
done
$py - "$log" "$device" "$(date -u +%F)" "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" <<'PY'
import json, statistics, sys
log, device, date, cpu = sys.argv[1:5]
rows = [json.loads(l) for l in open(log)]
cases = list(dict.fromkeys(r["case"] for r in rows))
summary = {"device": device, "date": date, "cpu": cpu, "cases": {}}
print(f"BURN update, burn vs PyTorch eager ({device}; {cpu}; {date}; medians of "
      f"{max(r['round'] for r in rows)} alternating rounds)")
progs = [p for p in ("burn", "pytorch", "baseline") if any(r["result"]["program"] == p for r in rows)]
base = "baseline" in progs
print(f"{'case':<10} {'burn img/s':>11} {'torch img/s':>12} {'ratio':>6}  {'burn MB':>8} {'torch MB':>9}"
      + (f" {'baseline img/s':>15} {'burn/baseline':>14}" if base else ""))
for c in cases:
    med = {}
    for prog in progs:
        res = [r["result"] for r in rows if r["case"] == c and r["result"]["program"] == prog]
        med[prog] = {k: statistics.median(x[k] for x in res) for k in ("img_per_s", "peak_rss_mb")}
        med[prog]["ms"] = {k: statistics.median(x["ms"][k] for x in res) for k in res[0]["ms"]}
        med[prog]["first_loss"] = res[0]["first_loss"]
    ratio = med["burn"]["img_per_s"] / med["pytorch"]["img_per_s"]
    summary["cases"][c] = dict(med, ratio=ratio)
    extra = ""
    if base:
        summary["cases"][c]["vs_baseline"] = med["burn"]["img_per_s"] / med["baseline"]["img_per_s"]
        extra = f" {med['baseline']['img_per_s']:>15.2f} {summary['cases'][c]['vs_baseline']:>14.2f}"
    print(f"{c:<10} {med['burn']['img_per_s']:>11.2f} {med['pytorch']['img_per_s']:>12.2f} "
          f"{ratio:>6.2f}  {med['burn']['peak_rss_mb']:>8.0f} {med['pytorch']['peak_rss_mb']:>9.0f}" + extra)
    for prog in progs:
        print(f"    {prog:<8} ms: " + ", ".join(f"{k} {v:.1f}" for k, v in med[prog]["ms"].items()))
json.dump(summary, open(log.replace(".jsonl", ".json"), "w"), indent=2)
PY

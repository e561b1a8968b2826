#!/usr/bin/env bash
# ablations.sh — the small-scale reproduction of the paper's ablations (Tables 5, 6, 7) and the
# baselines on Fashion-MNIST, on the CPU: every variant trains the demo's 1/4-width ReActNet-A
# (configs/demo/) against the demo's MoCo v2 teacher for the same number of updates, then is
# evaluated by weighted k-NN and by linear evaluation (configs/fmnist/linear.ini). Results:
# runs/ablations/<variant>/{knn,linear}.json and runs/ablations/report.md (burn_gpu report).
# A variant whose evaluation files exist is not run again, so the script resumes.
#   tools/ablations.sh [VARIANT ...]      (default: all; needs `make demo` first for the teacher)
set -euo pipefail
cd "$(dirname "$0")/.."
burn=${BURN_GPU:-./burn_gpu}
out=runs/ablations
s1=configs/demo/stage1.ini
s2=configs/demo/stage2.ini
[ -f runs/demo/teacher/teacher.safetensors ] || { echo "run make demo first (the teacher)" >&2; exit 2; }
mkdir -p "$out"

# Two stages as SPEC §5 (3 + 3 epochs), extra --set overrides for both.
two_stage() {
    local dir=$1; shift
    [ -f "$dir/stage2/done" ] && return 0
    $burn train --config $s1 --set run.dir=$dir/stage1 "$@"
    $burn train --config $s2 --set run.dir=$dir/stage2 --set train.init_from=$dir/stage1 "$@"
    touch "$dir/stage2/done"
}
# One stage with binary weights and activations from the start, as many updates (6 epochs).
one_stage() {
    local dir=$1; shift
    [ -f "$dir/stage2/done" ] && return 0
    $burn train --config $s2 --set run.dir=$dir/stage2 --set train.init_from= \
        --set train.epochs=6 "$@"
    touch "$dir/stage2/done"
}
evaluate() { # dir: k-NN and linear evaluation of its stage-2 student
    local dir=$1
    [ -f "$dir/knn.json" ] || $burn eval knn --config $s2 --checkpoint "$dir/stage2" --json "$dir/knn.json" | tail -n 1
    if [ -f configs/fmnist/linear.ini ] && [ ! -f "$dir/linear.json" ]; then
        $burn eval linear --config configs/fmnist/linear.ini --checkpoint "$dir/stage2" \
            --json "$dir/linear.json" | tail -n 1
    fi
}

lam_const="--set loss.lambda_schedule=constant --set loss.lambda_constant=0.8"
variant() {
    local name=$1 dir=$out/$1
    echo "== $name"
    case $name in
    # Table 5: the components added one by one (the last row is BURN itself)
    t5_kl_only)        one_stage $dir --set loss.lambda_schedule=constant --set loss.lambda_constant=0 ;;
    t5_plus_fs)        one_stage $dir $lam_const ;;
    t5_plus_dynamic)   one_stage $dir ;;
    burn)              two_stage $dir ;;
    # Table 6: the feature-similarity measure (cosine = burn)
    t6_fs_l1)          two_stage $dir --set loss.fs=l1 ;;
    t6_fs_l2)          two_stage $dir --set loss.fs=l2 ;;
    # Table 7: the balance schedule lambda(t) (cosine = burn)
    t7_lambda_constant) two_stage $dir $lam_const ;;
    t7_lambda_step)    two_stage $dir --set loss.lambda_schedule=step ;;
    # the finding of docs/RESULTS.md: the teacher head frozen at its random initialisation
    frozen_head)       two_stage $dir --set teacher.head_trainable=false ;;
    *) echo "unknown variant $name" >&2; exit 2 ;;
    esac
    evaluate $dir
}
all="t5_kl_only t5_plus_fs t5_plus_dynamic burn t6_fs_l1 t6_fs_l2 t7_lambda_constant t7_lambda_step frozen_head"
for v in ${@:-$all}; do variant $v; done

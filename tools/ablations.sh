#!/usr/bin/env bash
# ablations.sh — the small-scale reproduction of the paper's ablations (Tables 5, 6, 7) and the
# baselines on Fashion-MNIST, on the CPU: every variant trains the demo's 1/4-width ReActNet-A
# (configs/demo/) against the demo's MoCo v2 teacher for the same number of updates, then is
# evaluated by weighted k-NN and by linear evaluation (configs/fmnist/linear.ini). Results:
# runs/ablations/<variant>/seed<s>/{knn,linear}.json and runs/ablations/report.md (burn_gpu
# report: a row per variant, mean ± std over its seeds). A variant whose evaluation files exist
# is not run again, and an interrupted one continues from its checkpoints (train --resume), so
# the script resumes. Seed-major: every variant at the first seed, then at the next.
#   [SEEDS="0 1 2"] tools/ablations.sh [VARIANT ...]   (default: all; `make demo` first: the teacher)
# Each two-stage variant takes 5-10 min on 2 cores; all of them at 3 seeds about six hours.
set -euo pipefail
cd "$(dirname "$0")/.."
burn=${BURN_GPU:-./burn_gpu}
out=runs/ablations
s1=configs/demo/stage1.ini
s2=configs/demo/stage2.ini
[ -f runs/demo/teacher/teacher.safetensors ] || { echo "run make demo first (the teacher)" >&2; exit 2; }
mkdir -p "$out"

# Two stages as METHOD.md §5 (3 + 3 epochs) from a stage-1 config (default the demo's), extra --set
# overrides for both: stage 2 is the same config with binary weights, from stage 1's weights.
two_stage_from() {
    local cfg=$1 dir=$2; shift 2
    [ -f "$dir/stage2/done" ] && return 0
    $burn train --resume --config $cfg --set run.dir=$dir/stage1 $seed "$@"
    $burn train --resume --config $cfg --set run.dir=$dir/stage2 --set model.stage=2 \
        --set train.init_from=$dir/stage1 $seed "$@"
    touch "$dir/stage2/done"
}
two_stage() { two_stage_from $s1 "$@"; }
# One stage with binary weights and activations from the start, as many updates (6 epochs).
one_stage() {
    local dir=$1; shift
    [ -f "$dir/stage2/done" ] && return 0
    $burn train --resume --config $s2 --set run.dir=$dir/stage2 --set train.init_from= \
        --set train.epochs=6 $seed "$@"
    touch "$dir/stage2/done"
}
evaluate() { # dir [weights, default dir/stage2] [eval options]: k-NN and linear evaluation
    local dir=$1 ckpt=${2:-$1/stage2}; shift; [ $# -gt 0 ] && shift
    local args=(--checkpoint "$ckpt" $seed)
    [ $# -gt 0 ] && args=("$@" $seed)
    mkdir -p "$dir"
    [ -f "$dir/knn.json" ] || $burn eval knn --config $s2 "${args[@]}" --json "$dir/knn.json" | tail -n 1
    [ -f "$dir/linear.json" ] || $burn eval linear --config configs/fmnist/linear.ini "${args[@]}" \
        --json "$dir/linear.json" | tail -n 1
}

# Table 5's static λ: the middle of the cosine schedule's range 0.9 -> 0.7 (Table 7 uses 0.7)
lam_const="--set loss.lambda_schedule=constant --set loss.lambda_constant=0.8"
variant() { # name seed
    local name=$1 dir=$out/$1/seed$2 seed="--set run.seed=$2"
    echo "== $name seed $2"
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
    t7_lambda_constant) two_stage $dir --set loss.lambda_schedule=constant --set loss.lambda_constant=0.7 ;;
    t7_lambda_step)    two_stage $dir --set loss.lambda_schedule=step ;;
    # the teacher head: frozen at its random initialisation (the released code), jointly
    # trained without information maximisation (collapses), and the other mechanisms that
    # keep it from collapsing (docs/METHOD.md §4; burn itself: teacher_info_max = 0.3)
    frozen_head)       two_stage $dir --set teacher.head_trainable=false ;;
    joint_no_infomax)  two_stage $dir --set loss.teacher_info_max=0 ;;
    infomax1_features_slow) two_stage $dir --set loss.teacher_info_max=1 --set loss.fs_on=features \
                           --set teacher.head_lr_mult=0.1  # by name only; its FC has another width:
                       evaluate $dir "" --checkpoint $dir/stage2 --set loss.fs_on=features; return ;;
    # baselines (issue 8): the same student, data, updates and optimiser
    byol)              two_stage_from configs/fmnist/byol.ini $dir ;;
    moco_bnn)          two_stage_from configs/fmnist/moco_bnn.ini $dir ;;
    s2bnn)             [ -f $out/burn/seed$2/stage2/done ] || variant burn $2
                       two_stage_from configs/fmnist/s2bnn.ini $dir --set teacher.head_init=$out/burn/seed$2/stage1 ;;
    s2bnn_moco)        two_stage_from configs/fmnist/s2bnn.ini $dir --set head.hidden=128 --set head.out=64 \
                           --set teacher.head_init=runs/demo/teacher/moco-checkpoint.safetensors ;;
    supervised)        [ -f $dir/finetune.json ] || $burn finetune --config configs/fmnist/supervised.ini \
                           --checkpoint random --fraction 1 --set run.dir=$dir/stage2 $seed --overwrite \
                           --json $dir/finetune.json | tail -n 1 ;;
    random_init)       evaluate $dir random; return ;;
    teacher)           evaluate $dir "" --backbone teacher; return ;;
    raw_pixels)        evaluate $dir "" --backbone pixels; return ;;
    *) echo "unknown variant $name" >&2; exit 2 ;;
    esac
    evaluate $dir
}
all="t5_kl_only t5_plus_fs t5_plus_dynamic burn t6_fs_l1 t6_fs_l2 t7_lambda_constant t7_lambda_step
     frozen_head joint_no_infomax byol moco_bnn s2bnn s2bnn_moco supervised random_init teacher raw_pixels"
for s in ${SEEDS:-0 1 2}; do for v in ${@:-$all}; do variant $v $s; done; done
labels=() runs=() # every seed of a variant under one label: burn_gpu report averages them
for v in $all; do for d in $out/$v/seed*; do [ -d $d ] && runs+=($d) && labels+=(--label $v); done; done
$burn report --out $out/report.md "${labels[@]}" "${runs[@]}"

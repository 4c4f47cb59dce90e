#!/usr/bin/env bash
# The accuracy goals, checked by running the README's documented commands (plain MLPs; a fixed
# number of epochs, so the test set chooses nothing). Each target prints its runs, then a line
#   RESULT name accuracy seconds goal met|missed
# with the accuracy in percent and the whole process's wall time in seconds (loading, training,
# evaluation; the median of --runs runs for the speed targets). Exits 1 if a goal was missed.
#
#   targets (goal):
#     speed98         MNIST >= 98.0% in <= 1.5 s, median of 3 runs
#     speed99         MNIST >= 99.0% in <= 60 s, median of 3 runs
#     98.5            MNIST >= 98.5% within 5 minutes
#     99.0            MNIST >= 99.0% within 30 minutes
#     mnist-record    MNIST >= 99.35% within 60 minutes
#     fashion-record  Fashion-MNIST >= 90.5% within 60 minutes
#
#   bench/accuracy.sh                  # speed98, speed99, 98.5 and 99.0 (about 20 minutes)
#   bench/accuracy.sh --only speed98   # one target; its RESULT line is the last line
#   options: --data DIR (MNIST; default ../shared/data/mnist)  --fashion DIR (Fashion-MNIST;
#            default /usr/share/datasets/fashion-mnist, Debian's package)  --seed N (default 1)
#            --runs N (speed targets; default 3)  --keep DIR
#
# On a shared machine, run it under `flock /tmp/mlp-heavy.lock`: other jobs slow the runs down.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/../shared/data/mnist"
fashion=/usr/share/datasets/fashion-mnist
seed=1
runs=3
keep=""
only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --data) data=$2; shift 2 ;;
        --fashion) fashion=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "accuracy.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
targets=(speed98 speed99 98.5 99.0 mnist-record fashion-record)
if [ -n "$only" ]; then
    case " ${targets[*]} " in
        *" $only "*) chosen=("$only") ;;
        *) echo "accuracy.sh: unknown target $only; the targets are ${targets[*]}" >&2; exit 2 ;;
    esac
else
    chosen=(speed98 speed99 98.5 99.0)
fi
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_setup accuracy

# The documented command of each target (README, "Accuracy goals"), without --data-dir and --out.
command_of() {
    case "$1" in
        speed98) echo --hidden 160 --activation relu --optimizer adam --lr 0.008 --schedule cosine \
            --batch-size 256 --epochs 5 --train-eval 0 ;;
        speed99) echo --hidden 1024 --activation relu --optimizer adam --lr 0.002 --schedule cosine \
            --batch-size 256 --dropout 0.2 --epochs 26 --augment shift=2 --train-eval 0 ;;
        98.5) echo --hidden 1024,1024 --activation relu --optimizer adam --lr 0.001 --schedule cosine \
            --batch-size 128 --dropout 0.2 --epochs 8 --augment shift=2 ;;
        99.0) echo --hidden 1024,1024 --activation relu --optimizer adam --lr 0.001 --schedule cosine \
            --batch-size 128 --dropout 0.2 --epochs 30 --augment shift=2,rotate=10,scale=0.1 ;;
        mnist-record) echo --hidden 2048,2048 --activation relu --optimizer adam --lr 0.001 --schedule cosine \
            --batch-size 128 --dropout 0.2 --epochs 140 --augment shift=2,rotate=10,scale=0.1,elastic=34 \
            --ema 0.9999 --train-eval 0 ;;
        fashion-record) echo --dataset fashion-mnist --hidden 2048,2048 --activation relu --optimizer adam \
            --lr 0.001 --schedule cosine --batch-size 128 --dropout 0.4 --label-smoothing 0.1 --epochs 100 \
            --augment flip --train-eval 10000 ;;
    esac
}
# goal_of NAME: minimum accuracy (fraction), maximum seconds, runs.
goal_of() {
    case "$1" in
        speed98) echo 0.980 1.5 "$runs" ;;
        speed99) echo 0.990 60 "$runs" ;;
        98.5) echo 0.985 300 1 ;;
        99.0) echo 0.990 1800 1 ;;
        mnist-record) echo 0.9935 3600 1 ;;
        fashion-record) echo 0.905 3600 1 ;;
    esac
}

missed=0
# run_target NAME: its command --runs times (the same seed gives the same model each time, so only
# the time differs), judged on the median time.
run_target() {
    local name=$1 min_acc max_s n dir
    read -r min_acc max_s n <<< "$(goal_of "$name")"
    dir=$data
    [ "$name" = fashion-record ] && dir=$fashion
    [ -d "$dir" ] || { echo "accuracy.sh: $name: no data directory $dir" >&2; missed=1; return; }
    # shellcheck disable=SC2046 # the command is words on purpose
    set -- $(command_of "$name")
    local times=() acc="" i log start end
    for i in $(seq 1 "$n"); do
        log="$work/$name.$i.json"
        start=$(date +%s.%N)
        "$mlp" train "$@" --seed "$seed" --data-dir "$dir" --quiet --json --out "$work/$name.bin" > "$log" 2> "$log.err" \
            || { echo "$name: mlp failed:"; cat "$log.err"; missed=1; return; }
        end=$(date +%s.%N)
        acc=$(sed -n 's/.*"final_test_accuracy":\([0-9.eE+-]*\).*/\1/p' "$log")
        times+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')")
        echo "$name run $i: test accuracy $(awk -v a="$acc" 'BEGIN { printf "%.2f%%", 100 * a }') in ${times[-1]} s"
    done
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END { print (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }')
    awk -v n="$name" -v a="$acc" -v t="$median" -v min="$min_acc" -v max="$max_s" 'BEGIN {
        ok = (a >= min && t <= max)
        printf "RESULT %s %.2f %.2f >=%.2f%%/<=%ss %s\n", n, 100 * a, t, 100 * min, max, ok ? "met" : "missed"
        exit !ok }' || missed=1
}

for name in "${chosen[@]}"; do
    run_target "$name"
done
exit "$missed"

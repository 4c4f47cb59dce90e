#!/usr/bin/env bash
# The accuracy goals, checked by running the README's documented commands: at least 98.5% test
# accuracy within 5 minutes, and at least 99.0% within 30 minutes (784-1024-1024-10 relu MLPs, the
# last epoch's model, so the test set chooses nothing). Prints each run's accuracy, wall time and
# peak memory, and PASS or FAIL against its goal; exits 1 if a goal was missed.
#
#   bench/accuracy.sh                # both goals on MNIST (the two runs took 13 minutes here)
#   bench/accuracy.sh --quick        # only the 98.5% / 5-minute goal
#   options: --data DIR (default ../shared/data/mnist)  --seed N (default 1)  --keep DIR
#
# On a shared machine, run it under `flock /tmp/mlp-heavy.lock`: other jobs slow the runs down.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/../shared/data/mnist"
seed=1
quick=0
keep=""
while [ $# -gt 0 ]; do
    case "$1" in
        --data) data=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        --keep) keep=$2; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "accuracy.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -d "$data" ] || { echo "accuracy.sh: no data directory $data (give --data DIR)" >&2; exit 2; }
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_setup accuracy
net=(--hidden 1024,1024 --activation relu --optimizer adam --lr 0.001 --schedule cosine --batch-size 128
     --dropout 0.2 --seed "$seed" --data-dir "$data" --quiet --json)

missed=0
# goal NAME MIN_ACCURACY MAX_SECONDS ARGS...: one documented command, judged against its goal.
goal() {
    local name=$1 min_acc=$2 max_s=$3
    shift 3
    local log="$work/$name.json" start end
    start=$(date +%s.%N)
    /usr/bin/time -v "$mlp" train "${net[@]}" "$@" --out "$work/$name.bin" > "$log" 2> "$log.err"
    end=$(date +%s.%N)
    local acc rss
    acc=$(sed 's/"history":\[[^]]*\]//' "$log" | sed -n 's/.*"final_test_accuracy":\([0-9.eE+-]*\).*/\1/p')
    rss=$(awk -F: '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$log.err")
    awk -v n="$name" -v a="$acc" -v s="$start" -v e="$end" -v r="$rss" -v min="$min_acc" -v max="$max_s" 'BEGIN {
        t = e - s; ok = (a >= min && t <= max)
        printf "%-6s test accuracy %.2f%% in %dm%04.1fs, peak %s MB   goal >= %.1f%% within %d min: %s\n",
            n, 100 * a, int(t / 60), t - 60 * int(t / 60), r, 100 * min, max / 60, ok ? "PASS" : "FAIL"
        exit !ok }' || missed=1
}

goal 98.5 0.985 300 --epochs 8 --augment shift=2
[ "$quick" = 1 ] || goal 99.0 0.990 1800 --epochs 30 --augment shift=2,rotate=10,scale=0.1
exit "$missed"

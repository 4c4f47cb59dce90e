#!/usr/bin/env bash
# Side by side: mlp against the numpy and PyTorch references (../shared/bench/ref_numpy.py,
# ref_torch.py) on the same recipe, run alternately in one session so that the machine's mood hits
# all of them alike. Prints, per implementation, the median and min of the process wall time,
# training, evaluation and loading time, peak memory (max RSS), the final test accuracy, and the
# ratios to mlp.
#
#   bench/compare.sh                 # the seed recipe: 784-100-10 sigmoid, SGD lr 0.5, batch 100, 10,000 updates
#   bench/compare.sh --big           # 784-1024-1024-10 relu, Adam lr 1e-3, batch 128, 3 epochs (mlp and torch)
#   options: --runs N (default 5)  --data DIR  --venv DIR (default $MLP_BENCH_VENV or /tmp/mlp-bench-venv)
#            --no-python (mlp alone)  --keep DIR (keep every run's output there)
#            --baseline BIN (another mlp binary, e.g. built from an earlier commit, run alongside as
#            `base`: its ratio to mlp measures a change in the same session)
#
# The Python side sets itself up: a virtual environment outside the repository with numpy and torch
# from PyPI (torch is large; when it cannot be installed, numpy runs alone). Without python3, mlp
# runs alone and the script says so. On a shared machine, run it under `flock /tmp/mlp-heavy.lock`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=5
big=0
data="$root/../shared/data/mnist"
venv=${MLP_BENCH_VENV:-/tmp/mlp-bench-venv}
python=1
keep=""
baseline=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --big) big=1; shift ;;
        --data) data=$2; shift 2 ;;
        --venv) venv=$2; shift 2 ;;
        --no-python) python=0; shift ;;
        --keep) keep=$2; shift 2 ;;
        --baseline) baseline=$2; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$runs" in ''|*[!0-9]*|0) echo "compare.sh: --runs needs a whole number of at least 1" >&2; exit 2 ;; esac
refs="$root/../shared/bench"
[ -d "$data" ] || { echo "compare.sh: no data directory $data (give --data DIR)" >&2; exit 2; }
data=$(cd "$data" && pwd)
threads=$(nproc)

# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_setup compare

impls="mlp"
if [ -n "$baseline" ]; then
    [ -x "$baseline" ] || { echo "compare.sh: --baseline $baseline is not an executable" >&2; exit 2; }
    impls="mlp base"
fi
py=""
if [ "$python" = 1 ]; then
    if ! command -v python3 > /dev/null; then
        echo "python3 not found: running mlp alone (no numpy or PyTorch reference)"
    elif [ ! -f "$refs/ref_numpy.py" ]; then
        echo "reference scripts not found in $refs: running mlp alone"
    else
        if [ ! -x "$venv/bin/python" ]; then
            echo "setting up the Python references in $venv (numpy, torch from PyPI)..."
            python3 -m venv "$venv"
        fi
        py="$venv/bin/python"
        "$py" -c 'import numpy' 2> /dev/null || "$py" -m pip install --quiet numpy \
            || echo "could not install numpy"
        "$py" -c 'import torch' 2> /dev/null || "$py" -m pip install --quiet torch \
            || echo "could not install torch: running without the PyTorch reference"
        if [ "$big" = 0 ] && "$py" -c 'import numpy' 2> /dev/null; then impls="$impls numpy"; fi
        if "$py" -c 'import torch' 2> /dev/null; then impls="$impls torch"; fi
        [ "$impls" != mlp ] || echo "neither numpy nor torch could be set up: running mlp alone"
    fi
else
    echo "--no-python: running mlp alone"
fi

timer=()
if /usr/bin/time -v true > /dev/null 2>&1; then timer=(/usr/bin/time -v); fi

elapsed() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.3f", e - s }'; }

# Runs one implementation once; appends "impl run wall train eval load rss_mb acc per_epoch" to results.
run_one() {
    local impl=$1 run=$2 log="$work/$1-$2.log" cmd=()
    local recipe_args=(train --hidden 100 --activation sigmoid --loss cross-entropy --init normal
                       --init-std 0.01 --lr 0.5 --batch-size 100 --steps 10000)
    [ "$big" = 0 ] || recipe_args=(train --hidden 1024,1024 --activation relu --loss cross-entropy
                                   --optimizer adam --lr 0.001 --batch-size 128 --epochs 3)
    local mlp_args=("${recipe_args[@]}" --seed "$run" --json --quiet --out "$work/model.bin" --data-dir "$data")
    # The big net is compared by training seconds per epoch: measured in line, they are the
    # updates' alone, as the reference's are.
    [ "$big" = 0 ] || mlp_args+=(--measure-in-line)
    case "$impl/$big" in
        mlp/*) cmd=("$mlp" "${mlp_args[@]}") ;;
        base/*) cmd=("$baseline" "${mlp_args[@]}") ;;
        numpy/0) cmd=("$py" "$refs/ref_numpy.py" --data "$data" --seed "$run") ;;
        torch/0) cmd=("$py" "$refs/ref_torch.py" --data "$data" --threads "$threads" --seed "$run") ;;
        torch/1) cmd=("$py" "$refs/ref_torch.py" --data "$data" --threads "$threads" --seed "$run" --big) ;;
    esac
    local start end
    start=$(date +%s.%N)
    "${timer[@]}" "${cmd[@]}" > "$log" 2> "$log.err" || { echo "$impl run $run failed:"; tail -5 "$log.err"; exit 1; }
    end=$(date +%s.%N)
    local rss
    rss=$(awk -F: '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$log.err")
    if [ "$impl" = mlp ] || [ "$impl" = base ]; then
        # One JSON object on one line: pull the numbers out with sed, so that no Python is needed.
        # The per-epoch records sit in "history"; the totals outside it.
        local top history epochs accs
        top=$(sed 's/"history":\[[^]]*\]//' "$log")
        history=$(grep -o '"history":\[[^]]*\]' "$log")
        field() { printf '%s' "$top" | sed -n "s/.*\"$1\":\([0-9.eE+-]*\).*/\1/p"; }
        epochs=$(printf '%s' "$history" | grep -o '"train_seconds":[0-9.eE+-]*' | cut -d: -f2 | paste -sd, -)
        accs=$(printf '%s' "$history" | grep -o '"test_accuracy":{"correct":[0-9]*,"total":[0-9]*}' \
            | sed 's/.*"correct":\([0-9]*\),"total":\([0-9]*\)}/\1 \2/' | awk '{ printf "%s%.4f", (NR > 1 ? "," : ""), $1 / $2 }')
        echo "$impl $run $(elapsed "$start" "$end") $(field train_seconds) $(field eval_seconds)" \
             "$(field load_seconds) ${rss:-nan} $(field final_test_accuracy) $epochs $accs" >> "$work/results"
    else
        local line
        line=$(grep '^RESULT' "$log")
        get() { printf '%s' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
        echo "$impl $run $(elapsed "$start" "$end") $(get train_s) $(get eval_s) $(get load_s) ${rss:-nan}" \
             "$(get final_test_acc) $(get epoch_s) $(get test_acc)" >> "$work/results"
    fi
}

recipe="seed recipe: 784-100-10 sigmoid/softmax, SGD lr 0.5, batch 100, 10,000 updates, N(0, 0.01²) init"
[ "$big" = 0 ] || recipe="big net: 784-1024-1024-10 relu, Adam lr 1e-3, batch 128, 3 epochs"
echo "$recipe; $runs alternating runs of: $impls; $threads threads each"
: > "$work/results"
for run in $(seq 1 "$runs"); do
    for impl in $impls; do
        run_one "$impl" "$run"
        tail -1 "$work/results" | awk '{printf "  run %s %-6s wall %6.2f s  train %6.2f s  eval %5.2f s  load %5.2f s  rss %6.1f MB  acc %s\n", $2, $1, $3, $4, $5, $6, $7, $8}'
    done
done

# Medians and mins per implementation, and the ratios of each reference to mlp (above 1: mlp is faster).
awk -v big="$big" '
function sorted(list, n, out,   i, j, t) { for (i = 1; i <= n; i++) out[i] = list[i];
    for (i = 2; i <= n; i++) for (j = i; j > 1 && out[j-1] > out[j]; j--) { t = out[j]; out[j] = out[j-1]; out[j-1] = t } }
function median(list, n,   s) { sorted(list, n, s); return n % 2 ? s[(n+1)/2] : (s[n/2] + s[n/2+1]) / 2 }
function minimum(list, n,   s) { sorted(list, n, s); return s[1] }
{
    impl = $1; k = ++count[impl]; order[impl] = order[impl] ? order[impl] : ++impls; name[order[impl]] = impl
    wall[impl, k] = $3; train[impl, k] = $4; evals[impl, k] = $5; load[impl, k] = $6; rss[impl, k] = $7; acc[impl, k] = $8
    n = split($9, e, ","); for (i = 1; i <= n; i++) { ep[impl, i, k] = e[i] } epochs[impl] = n
    split($10, a, ","); for (i = 1; i <= n; i++) { epacc[impl, i, k] = a[i] }
}
END {
    printf "\n%-6s %15s %15s %15s %13s %13s %9s\n", "", "wall s", "train s", "eval s", "load s", "max RSS MB", "test acc"
    printf "%-6s %15s %15s %15s %13s %13s %9s\n", "", "median (min)", "median (min)", "median (min)", "median (min)", "median (max)", "median"
    for (o = 1; o <= impls; o++) {
        impl = name[o]; n = count[impl]
        for (k = 1; k <= n; k++) { w[k] = wall[impl, k]; t[k] = train[impl, k]; v[k] = evals[impl, k]; l[k] = load[impl, k]; r[k] = -rss[impl, k]; c[k] = acc[impl, k] }
        W[impl] = median(w, n); T[impl] = median(t, n); V[impl] = median(v, n); L[impl] = median(l, n); C[impl] = median(c, n)
        printf "%-6s %7.2f (%5.2f) %7.2f (%5.2f) %7.2f (%5.2f) %5.2f (%5.2f) %5.1f (%5.1f) %9.4f\n", impl,
            W[impl], minimum(w, n), T[impl], minimum(t, n), V[impl], minimum(v, n), L[impl], minimum(l, n),
            -median(r, n), -minimum(r, n), C[impl]
        if (big) {
            printf "       per epoch, median training s:"
            for (i = 1; i <= epochs[impl]; i++) { for (k = 1; k <= n; k++) x[k] = ep[impl, i, k]; printf " %.2f", median(x, n) }
            printf "   test acc:"
            for (i = 1; i <= epochs[impl]; i++) { for (k = 1; k <= n; k++) x[k] = epacc[impl, i, k]; printf " %.4f", median(x, n) }
            printf "\n"
            for (k = 1; k <= n; k++) { s = 0; for (i = 1; i <= epochs[impl]; i++) s += ep[impl, i, k]; x[k] = s / epochs[impl] }
            E[impl] = median(x, n)
        }
    }
    printf "\nratios of medians, reference / mlp (above 1: mlp is that many times faster)\n"
    for (o = 2; o <= impls; o++) {
        impl = name[o]
        printf "%-6s wall %.2fx  train %.2fx  eval %.2fx  load %.2fx", impl, W[impl] / W["mlp"], T[impl] / T["mlp"], V[impl] / V["mlp"], L[impl] / L["mlp"]
        if (big) printf "  s/epoch mlp/%s %.2f", impl, E["mlp"] / E[impl]
        printf "  test acc %+.2f points (mlp - %s)\n", 100 * (C["mlp"] - C[impl]), impl
    }
}' "$work/results"

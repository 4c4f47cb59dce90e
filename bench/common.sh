# Sourced by the bench scripts: a work directory (kept when $keep names one, else removed on exit)
# and a release build of mlp. Needs $root, $keep; sets $work and $mlp.
# bench_setup NAME: NAME names the temporary directory.
bench_setup() {
    work=${keep:-$(mktemp -d "/tmp/mlp-$1.XXXXXX")}
    mkdir -p "$work"
    [ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
    echo "building mlp (release)..."
    (cd "$root" && cargo build --release --quiet)
    mlp="$root/target/release/mlp"
}

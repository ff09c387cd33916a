#!/usr/bin/env bash
# Runs our like-for-like CKKS benches (benches/benches/peer.rs) and the peer benchmarks
# of shared/bench/peers/ back to back, each pinned to one core, and prints our time, the
# peer's time and the ratio (ours / peer: below 1 means we are faster).
#
#   bash benches/peer_compare.sh [poulpy|openfhe|boot|all]      (default: all)
#
# poulpy:  peer/poulpy-like/*  vs  poulpy-ckks 0.10 (shared/bench/peers/poulpy, `ifma
#          leveled` on an AVX-512 IFMA CPU, else `avx-ntt`); needs the nightly toolchain
#          that the peer's rust-toolchain.toml pins (`rustup toolchain install nightly`).
# openfhe: peer/openfhe-like/*  vs  OpenFHE 1.6.1 (shared/bench/peers/bench_openfhe.py
#          --part ops); needs CPython 3.10 for the openfhe wheel (venv made as run_all.sh
#          does, at $PEER_VENV, default ~/.cache/hetal-peers).
# boot:    boot/N16/full/1t (benches/benches/boot.rs, timed once: 2^15 slots, one thread)
#          vs OpenFHE's sparse-encapsulated bootstrapping (bench_openfhe.py --part boot
#          --recipe $PEER_BOOT_RECIPE, default 5,3,59,3: the recipe that fits this machine's
#          memory, 5 levels left; 2 runs, min). About 6 minutes and ~11 GB resident.
#
# Environment: PEER_CORE (core for every run, default 0; `none`: no pinning), PEERS_DIR (the peers folder,
# default ../shared/bench/peers next to the repository), PEER_REPS (peer repetitions,
# default 5), CARGO_TARGET_DIR (ours; poulpy builds in $CARGO_TARGET_DIR/poulpy-peer).
# Figures: ours = criterion samples (10), min and median per iteration; peers = their
# min and median over PEER_REPS runs. Ratios are min / min.
set -euo pipefail
which=${1:-all}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
core=${PEER_CORE:-0}
reps=${PEER_REPS:-5}
target=${CARGO_TARGET_DIR:-$repo/target}
peers=${PEERS_DIR:-}
if [ -z "$peers" ]; then
  for d in "$repo/../shared/bench/peers" "$repo/../../shared/bench/peers"; do
    [ -d "$d" ] && { peers=$(cd "$d" && pwd); break; }
  done
fi
[ -n "$peers" ] && [ -d "$peers" ] || { echo "peer_compare: set PEERS_DIR (shared/bench/peers)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ "$core" = none ]; then pin=""; else pin="taskset -c $core"; fi

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs); pinned to core $core; $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
simd=$(cd "$repo" && cargo run -q --release -p hetal -- info 2>/dev/null | grep -i -m1 'backend' || true)
[ -n "$simd" ] && echo "ours: $simd"

# Builds benches/benches/$1.rs and prints its binary, to run it directly under taskset.
bench_binary() {
  local bin
  bin=$(cd "$repo" && cargo bench -q -p hetal-benches --bench "$1" --no-run --message-format=json 2>/dev/null |
    python3 -c 'import sys, json
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])' "$1" | tail -n 1)
  [ -x "$bin" ] || { echo "peer_compare: could not build benches/benches/$1.rs" >&2; exit 1; }
  echo "$bin"
}

# Our benches: build once, then run the criterion binary itself under taskset.
bench_bin=$(bench_binary peer)
ours() {
  # Criterion writes under the current directory's target/criterion unless told otherwise.
  (cd "$repo" && CRITERION_HOME="$out/criterion" HETAL_PEER_SETS="$1" $pin "$bench_bin" --bench --noplot >/dev/null)
}

report() { python3 - "$out" "$@" <<'PY'
import json, os, statistics, sys
out, which = sys.argv[1], sys.argv[2]

def ours(group, op):
    d = os.path.join(out, "criterion", group.replace("/", "_"), op, "new", "sample.json")
    s = json.load(open(d))
    per = [t / i for t, i in zip(s["times"], s["iters"])]
    return min(per) / 1e6, statistics.median(per) / 1e6

def row(op, o, p, note=""):
    (omin, omed), (pmin, pmed) = o, p
    pm = f"{pmed:9.1f}" if pmed is not None else "        —"
    print(f"| {op:<22} | {omin:9.1f} | {omed:9.1f} | {pmin:9.1f} | {pm} | {omin / pmin:5.2f} |{note}")

def head(title, peer):
    print(f"\n{title}\n")
    print(f"| {'op':<22} | ours min ms | ours median | {peer} min ms | {peer} median | ratio |")
    print("|---|---|---|---|---|---|")

if which == "poulpy":
    res = {}
    for line in open(os.path.join(out, "poulpy.txt")):
        if line.startswith("RESULT") and "min_ms=" in line:
            f = dict(kv.split("=", 1) for kv in line.split()[1:])
            res[f["op"]] = (float(f["min_ms"]), float(f["median_ms"]))
    backend = next((l.split("backend=")[1].split()[0] for l in open(os.path.join(out, "poulpy.txt"))
                    if l.startswith("RESULT")), "?")
    head(f"poulpy-ckks 0.10 ({backend} backend) vs peer/poulpy-like, one thread", "poulpy")
    pairs = [("rotate", "rotate(1)"), ("mul_relin_rescale", "mul+relin+rescale"),
             ("encrypt_sk", "encrypt_sk"), ("decrypt", "decrypt+decode")]
    for ours_op, peer_op in pairs:
        row(ours_op, ours("peer/poulpy-like", ours_op), res[peer_op])
    for ours_op, peer in [("keygen_relin", "keygen_relin"), ("keygen_rot", "keygen_rot1")]:
        e, p = res[f"{peer}(encrypt)"], res[f"{peer}(prepare)"]
        row(ours_op, ours("peer/poulpy-like", ours_op), (e[0] + p[0], e[1] + p[1]),
            " poulpy: encrypt + prepare")
else:
    res = {}
    for line in open(os.path.join(out, "openfhe.tsv")):
        parts = line.split()
        if len(parts) >= 2:
            try:
                res[parts[0]] = (float(parts[1]) / 1e6, None)
            except ValueError:
                pass
    head("OpenFHE 1.6.1 vs peer/openfhe-like, one thread", "OpenFHE")
    for op in ["keygen_relin", "keygen_rot", "encrypt_pk", "decrypt", "mul_relin_rescale",
               "rotate", "hoisted_rotate_16", "rescale"]:
        if op in res:
            row(op, ours("peer/openfhe-like", op), res[op])
PY
}

# The CPython 3.10 venv with the openfhe wheel (made as peers/run_all.sh does).
venv=${PEER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/hetal-peers}
openfhe_venv() {
  if [ ! -x "$venv/bin/python" ]; then
    py=${PY310:-}
    [ -n "$py" ] || py=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python 2>/dev/null | tail -n 1 || true)
    [ -n "$py" ] || py=$(command -v python3.10 || true)
    [ -x "$py" ] || { echo "peer_compare: OpenFHE needs CPython 3.10 (set PY310)" >&2; exit 2; }
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q openfhe==1.6.1.0.22.4 numpy==2.2.6
  fi
}

if [ "$which" = all ] || [ "$which" = poulpy ]; then
  echo "== ours: peer/poulpy-like" >&2
  ours poulpy-like
  echo "== poulpy-ckks (build, then run)" >&2
  (
    cd "$peers/poulpy"
    if grep -qw avx512ifma /proc/cpuinfo; then
      export RUSTFLAGS="-C target-feature=+avx2,+fma,+avx512f,+avx512dq,+avx512bw,+avx512vl,+avx512ifma"
      feats=(--features avx512); backend=ifma
    else
      feats=(); backend=avx-ntt
    fi
    export CARGO_TARGET_DIR="$target/poulpy-peer"
    cargo build -q --release --locked "${feats[@]}"
    $pin "$CARGO_TARGET_DIR/release/poulpy_bench" "$backend" leveled "$reps"
  ) > "$out/poulpy.txt"
  report poulpy
fi

if [ "$which" = all ] || [ "$which" = openfhe ]; then
  openfhe_venv
  echo "== ours: peer/openfhe-like" >&2
  ours openfhe-like
  echo "== OpenFHE" >&2
  OMP_NUM_THREADS=1 $pin "$venv/bin/python" "$peers/bench_openfhe.py" --part ops --reps "$reps" --tsv \
    --out "$out/openfhe.jsonl" > "$out/openfhe.tsv"
  report openfhe
fi

if [ "$which" = all ] || [ "$which" = boot ]; then
  openfhe_venv
  recipe=${PEER_BOOT_RECIPE:-5,3,59,3}
  echo "== ours: boot/N16 (keys, then one bootstrap per case)" >&2
  boot_bin=$(bench_binary boot)
  (cd "$repo" && HETAL_BENCH_PRESETS=N16 $pin "$boot_bin" --bench > "$out/ours_boot.txt")
  echo "== OpenFHE bootstrapping (recipe $recipe)" >&2
  OMP_NUM_THREADS=1 $pin "$venv/bin/python" "$peers/bench_openfhe.py" --part boot --recipe "$recipe" \
    --boot-reps 2 --out "$out/openfhe_boot.jsonl" > /dev/null
  python3 - "$out" <<'PY'
import json, os, re, sys
out = sys.argv[1]
ours = {}
for line in open(os.path.join(out, "ours_boot.txt")):
    m = re.match(r"boot/N16/full/(\w+): one run ([\d.]+) s CPU, ([\d.]+) s wall(.*)", line)
    if m:
        ours[m.group(1)] = (float(m.group(2)), float(m.group(3)), m.group(4))
peer = {}
for line in open(os.path.join(out, "openfhe_boot.jsonl")):
    d = json.loads(line)
    peer[d["op"]] = d
t1, kg, b = ours["1t"], ours["keygen"], peer["boot"]
bits = re.search(r"([\d.]+) bits, (\d+) levels", t1[2])
gib = re.search(r"([\d.]+) GiB", kg[2])
print("\nBootstrapping, N = 2^16, 2^15 slots, one thread\n")
print("| | bootstrap (wall) | precision | levels left | key generation | keys |")
print("|---|---|---|---|---|---|")
print(f"| ours (boot/N16/full/1t) | {t1[1]:.2f} s | {bits.group(1)} bits | {bits.group(2)} | {kg[1]:.1f} s | {gib.group(1)} GiB |")
k = peer["boot_keygen"]
print(f"| OpenFHE 1.6.1 (sparse-encapsulated) | {b['min_s']:.2f} s (min of {b['reps']}) | {b['bits']} bits | {b['levels_left']} | {k['min_s']:.1f} s | {k['boot_keys_bytes_est'] / 2**30:.2f} GiB (est.) |")
print(f"\nratio ours / OpenFHE (bootstrap wall time): {t1[1] / b['min_s']:.2f}; OpenFHE peak RSS {b.get('peak_rss_gib', '?')} GiB")
PY
fi

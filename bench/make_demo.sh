#!/usr/bin/env bash
# Seconds from `make demo` in a clean checkout to the demo answering /healthz.
#
#   bench/make_demo.sh [--keep] [--repo PATH] [--venv DIR] [--patients N]
#
# Clones the repository (default: this checkout's repository) into a temporary
# folder, runs `make demo` there with RECORDROOM_DATA_DIR inside that folder, polls
# /healthz until it answers, prints the time, and stops the demo. `make demo` serves
# on port 8000, or on a free port (`make demo PORT=P`) when 8000 is taken.
# Packages come from pip's cache when it is warm ("packages already downloaded").
# --venv DIR skips the venv and the install: the clone's code runs with DIR's
# packages (`DIR/bin/recordroom demo`, PYTHONPATH=clone/src), timing the demo alone;
# --patients N loads N synthetic patients instead of the demo's default (the smoke
# run in tests/bench uses both). Target: <= 60 s on a 2-core machine.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$here"
keep=0
venv=""
patients=""
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) keep=1 ;;
        --repo) repo="$2"; shift ;;
        --venv) venv="$(cd "$2" && pwd)"; shift ;;
        --patients) patients="$2"; shift ;;
        *) echo "usage: $0 [--keep] [--repo PATH] [--venv DIR] [--patients N]" >&2; exit 2 ;;
    esac
    shift
done

tmp="$(mktemp -d /tmp/rr-make-demo.XXXXXX)"
pgid=""
cleanup() {
    if [ -n "$pgid" ]; then
        kill -TERM -- "-$pgid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 -- "-$pgid" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL -- "-$pgid" 2>/dev/null || true
    fi
    if [ "$keep" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

port_free() {
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

t_clone=$(date +%s.%N)
git clone -q "$repo" "$tmp/recordroom"
t_start=$(date +%s.%N)
clone_s=$(echo "$t_start - $t_clone" | bc)
cd "$tmp/recordroom"
export RECORDROOM_DATA_DIR="$tmp/data"
export PYTHONUNBUFFERED=1  # the demo's output reaches the log as it happens
log="$tmp/demo.log"

port=8000
if ! port_free 8000; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
if [ -n "$venv" ]; then
    how="$venv/bin/recordroom demo --port $port (existing venv, no install)"
    PYTHONPATH="$PWD/src" setsid "$venv/bin/recordroom" demo --port "$port" \
        ${patients:+--patients "$patients"} >"$log" 2>&1 &
else
    how="make demo PORT=$port${patients:+ PATIENTS=$patients}"
    setsid make demo PORT="$port" ${patients:+PATIENTS="$patients"} >"$log" 2>&1 &
fi
pid=$!
pgid=$(ps -o pgid= "$pid" | tr -d ' ')

deadline=$(( $(date +%s) + 600 ))
t_installed=""
if [ -n "$venv" ]; then t_installed=$t_start; fi
t_loaded=""
until curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; do
    # phases, for the breakdown: packages installed, population loaded
    if [ -z "$t_installed" ] && [ -e .venv/.runtime ]; then
        t_installed=$(date +%s.%N)
    fi
    if [ -z "$t_loaded" ] && grep -q "Demo sign-ins\|already loaded" "$log"; then
        t_loaded=$(date +%s.%N)
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "the demo stopped before it served; last lines of its output:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "no answer on http://127.0.0.1:$port/healthz after 600 s" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    sleep 0.25
done
t_serving=$(date +%s.%N)
total=$(echo "$t_serving - $t_start" | bc)
# CPU seconds the demo's processes used so far (live ones and the children they reaped),
# to tell work from waiting for a core on a busy machine.
cpu_s=$(python3 - "$pgid" <<'PY'
import os, sys
tick, total = os.sysconf("SC_CLK_TCK"), 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if fields[2] == sys.argv[1]:  # same process group
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
print(f"{total / tick:.1f}")
PY
)

loaded=$(grep -A1 -m1 -E "^loaded [0-9]" "$log" | tr -s ' \n' ' ' || true)
phase() { if [ -n "$2" ]; then printf '%.1f s' "$(echo "$2 - $1" | bc)"; else echo "?"; fi; }
cores=$(nproc)
load=$(cut -d' ' -f1 /proc/loadavg)
printf '\nmake demo, clean checkout to serving: %.1f s (target <= 60 s)\n' "$total"
echo "  ran:      $how"
echo "  clone:    $(printf '%.1f' "$clone_s") s (not counted)"
echo "  phases:   venv + pip install $(phase "$t_start" "$t_installed"), migrate + load + demo users $(phase "${t_installed:-$t_start}" "$t_loaded"), server start $(phase "${t_loaded:-$t_serving}" "$t_serving")"
echo "  cpu:      ${cpu_s} s of CPU (user + system) used by the demo's processes"
echo "  demo:     ${loaded:-see $log}"
echo "  machine:  $(hostname): $cores cores, load $load, $(date -u '+%Y-%m-%d %H:%M') UTC"
echo "  rerun:    bench/make_demo.sh${venv:+ --venv $venv}${patients:+ --patients $patients}"

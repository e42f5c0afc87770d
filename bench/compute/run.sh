#!/usr/bin/env bash
# bench/compute: Ciel's Nova API (POST /compute/v2.1/servers) beside the same test image booted by
# a plain, hand-written qemu-system-x86_64 command with the flags of Ciel's driver
# (src/compute/driver/qemu.cc: -M pc, -accel, -m, -smp, a virtio qcow2 overlay, the config drive as
# a read-only virtio disk, user-mode net with restrict=on and an SSH hostfwd, virtio-rng), on the
# accelerator Ciel picks on this machine (KVM where it really works, else TCG; printed), in the same
# run. The guest is tools/build-test-image's; it prints "ciel-guest-ready <uuid>" on its serial
# console once SSH is up. bench/compute/measure.py does the timed part with raw HTTP (requests and
# an identity token; no `openstack` CLI inside timed sections):
#   1. control-plane overhead: the 202 of POST /servers -> a process running with -name ciel-<id>
#      (what pgrep -f sees; also reported: DATA/compute/vms/<id>/qemu.pid written by QEMU),
#      on each of the $RUNS sequential creates of scenario 2; p50, target < 50 ms;
#   2. POST /servers -> the marker in DATA/compute/vms/<id>/serial.log, $RUNS servers one after the
#      other (each deleted after, untimed), beside plain QEMU process start -> the marker (its
#      overlay and config drive made untimed before); p50s, ratio Ciel/plain, target <= 1.2;
#   3. $PARALLEL POSTs at once -> all $PARALLEL markers, beside $PARALLEL plain QEMUs started at
#      once -> all markers; ratio, target <= 1.2.
# Ciel and plain QEMU alternate in scenario 2 (the order reversed every other round).
# Set-up through the API before any timing: the image (Glance v2), a flavor of 1 vCPU, 256 MiB,
# 1 GiB, a keypair. `ciel serve` runs on 127.0.0.1 with a private data dir and
# compute.ssh_ports in a free range; at exit it is stopped and every VM is killed (VMs outlive
# ciel serve by design: the qemu.pid files of DATA/compute/vms/*, and the plain QEMUs' pids).
# Knobs (environment, defaults): RUNS 10, PARALLEL 8, BOOT_TIMEOUT 300 (s), CIEL_BINARY build/ciel,
# IMAGE (an existing test image; default: tools/build-test-image builds one).
# Prints RESULT lines, then a markdown table. About 6-9 minutes under TCG on 2 cores.
# Full run: bash bench/compute/run.sh
# Smoke run: RUNS=1 PARALLEL=2 bash bench/compute/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=bench/lib/common.sh
source "$here/../lib/common.sh"

RUNS="${RUNS:-10}"
PARALLEL="${PARALLEL:-8}"
export RUNS PARALLEL BOOT_TIMEOUT="${BOOT_TIMEOUT:-300}"
CIEL="${CIEL_BINARY:-$root/build/ciel}"
[[ -x "$CIEL" ]] || bench_die "no $CIEL: set CIEL_BINARY or run bash scripts/build.sh release first"
for c in qemu-system-x86_64 qemu-img xorriso ssh-keygen; do
  command -v "$c" >/dev/null || bench_die "$c not found (scripts/install-deps.sh installs the compute group)"
done
"$BENCH_PYTHON" -c 'import requests' 2>/dev/null || bench_die "python3-requests is missing"

work="$(bench_tmpdir compute)"
chmod 755 "$work"

# --- the guest image ---------------------------------------------------------------------------
if [[ -n "${IMAGE:-}" ]]; then
  image="$IMAGE"
else
  image="$work/guest.qcow2"
  bench_log "bench: building the test image (tools/build-test-image)"
  "$root/tools/build-test-image" "$image" >"$work/build-image.log" 2>&1 ||
    bench_die "tools/build-test-image failed: $(tail -20 "$work/build-image.log")"
fi

# --- kill every VM at exit -----------------------------------------------------------------------
kill_vms() {
  local f pid
  for f in "$data"/compute/vms/*/qemu.pid "$work/plain.pids"; do
    [[ -f "$f" ]] || continue
    while read -r pid; do
      if [[ "$pid" =~ ^[0-9]+$ ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    done <"$f"
  done
}

# --- ciel serve ----------------------------------------------------------------------------------
data="$work/data"
mkdir -p "$data"
port="$(free_port)"
# a free range of 100 ports for the servers' SSH forwarding
ssh_lo=""
for base in $(shuf -i 30000-59000 -n 20); do
  if ! ss -Htln "sport >= :$base and sport <= :$((base + 99))" | grep -q .; then ssh_lo="$base"; break; fi
done
[[ -n "$ssh_lo" ]] || bench_die "no free range of 100 ports for compute.ssh_ports"
"$CIEL" serve --data-dir "$data" --listen "127.0.0.1:$port" \
  --set "compute.ssh_ports=$ssh_lo-$((ssh_lo + 99))" \
  --set identity.argon2_memory_kib=1024 --set identity.argon2_iterations=1 \
  >"$work/ciel.log" 2>&1 &
ciel_pid=$!
bench_on_exit "kill_vms"            # runs last (LIFO): after ciel has stopped
bench_on_exit "bench_stop_pid $ciel_pid 30"
base_url="http://127.0.0.1:$port"
wait_http "$base_url/healthz" 60 || bench_die "ciel did not start: $(tail -20 "$work/ciel.log")"

accel="$(sed -n 's/.*virtual machines run under \([a-z]*\).*/\1/p' "$work/ciel.log" | head -1)"
[[ -n "$accel" ]] || bench_die "ciel did not say which accelerator its VMs run under: $(tail -20 "$work/ciel.log")"
kvm_note="no /dev/kvm"
[[ -e /dev/kvm ]] && kvm_note="/dev/kvm present"
{
  echo "INFO machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r), $(qemu-system-x86_64 --version | head -1)"
  echo "INFO accelerator: $accel (chosen by ciel serve, compute.accel=auto; $kvm_note); plain QEMU uses -accel $accel too"
  echo "INFO ciel: $CIEL (built $(date -r "$CIEL" '+%F %T')), $base_url, compute.ssh_ports=$ssh_lo-$((ssh_lo + 99))"
  echo "INFO image: $image ($(du -k "$image" | cut -f1) KiB); flavor 1 vCPU, 256 MiB, 1 GiB; runs=$RUNS parallel=$PARALLEL"
} >&2
echo "RESULT name=compute.accelerator accel=$accel"
bench_warn_if_busy

"$BENCH_PYTHON" "$here/measure.py" "$base_url" "$data" "$image" "$accel" "$work" ||
  bench_die "the measurement failed (ciel log: $(tail -5 "$work/ciel.log"))"

if grep -q 'without.*limits' "$work/ciel.log"; then
  bench_log "bench: note: ciel ran its VMs without cgroup limits: $(grep -m1 'without.*limits' "$work/ciel.log")"
fi

# --- the table -----------------------------------------------------------------------------------
"$BENCH_PYTHON" - "$work/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
def met(ok): return "met" if ok else "not met"
r1 = s["boot_ciel_s_p50"] / s["boot_plain_s_p50"]
r2 = s["par_ciel_s"] / s["par_plain_s"]
print()
print(f"Compute, accelerator {s['accel']}, {s['runs']} sequential servers, {s['parallel']} in parallel")
print()
print("| case | Ciel | plain QEMU | ratio Ciel/plain | target | | published anchors |")
print("|---|---|---|---|---|---|---|")
print(f"| API 202 -> QEMU process (p50 of {s['runs']}) | {s['overhead_ms_p50']:.1f} ms (max {s['overhead_ms_max']:.1f}; qemu.pid written {s['pidfile_ms_p50']:.1f} ms; POST -> 202 {s['post_202_ms_p50']:.1f} ms) | - | - | < 50 ms | {met(s['overhead_ms_p50'] < 50)} | Firecracker: <= 125 ms to init a microVM (KVM) |")
print(f"| create -> guest ready, one at a time (p50 of {s['runs']}) | {s['boot_ciel_s_p50']:.2f} s | {s['boot_plain_s_p50']:.2f} s | {r1:.3f} | <= 1.2 | {met(r1 <= 1.2)} | Nova: seconds for one server |")
print(f"| {s['parallel']} created at once -> all ready | {s['par_ciel_s']:.2f} s | {s['par_plain_s']:.2f} s | {r2:.3f} | <= 1.2 | {met(r2 <= 1.2)} | Nova: minutes for twenty in parallel |")
print(f"RESULT name=compute.ratio.boot_one ratio={r1:.3f} target=1.2 met={int(r1 <= 1.2)}")
print(f"RESULT name=compute.ratio.boot_parallel ratio={r2:.3f} target=1.2 met={int(r2 <= 1.2)}")
print(f"RESULT name=compute.target.create_overhead p50_ms={s['overhead_ms_p50']:.1f} target_ms=50 met={int(s['overhead_ms_p50'] < 50)}")
PY

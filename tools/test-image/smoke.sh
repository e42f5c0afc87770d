#!/usr/bin/env bash
# End-to-end check of the test guest image, the way Ciel's compute driver will use it:
# build the image, build an OpenStack config drive (xorriso), boot a qcow2 overlay under QEMU TCG with
# virtio disk + virtio-net (user-mode, hostfwd on 127.0.0.1), wait for the ready marker, ssh in with the
# generated ed25519 key, reboot with QMP system_reset (user_data must not run again), then stop with QMP
# system_powerdown and check that QEMU exits. Prints timings.
#
#   tools/test-image/smoke.sh [--keep]
#
# Environment: CONFIG_DRIVE=ide (default; IDE cdrom on the pc machine) or virtio (second virtio disk);
# MACHINE=pc (default) or q35 (then use CONFIG_DRIVE=virtio: Debian's cloud kernel has no AHCI);
# NETWORK=dhcp (default) or static (network_data.json gives a fixed ipv4 address, route and DNS);
# IMAGE=path to use an existing image instead of building one; PORT=host port for ssh (default: a free one).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
keep=0
[[ "${1:-}" == --keep ]] && keep=1
config_drive="${CONFIG_DRIVE:-ide}"
network="${NETWORK:-dhcp}"
machine="${MACHINE:-pc}"
marker_timeout=120
t0=$(date +%s.%N)

now() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "smoke: [$(now)s] $*"; }
fail() {
  echo "smoke: FAIL: $*" >&2
  if [[ -f "${tmp:-}/console.log" ]]; then echo "--- console.log ---" >&2; tail -n 40 "$tmp/console.log" >&2; fi
  exit 1
}

for c in qemu-system-x86_64 qemu-img xorriso ssh ssh-keygen python3; do
  command -v "$c" >/dev/null || fail "$c not found (scripts/install-deps.sh installs the compute group)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ciel-smoke.XXXXXX")
qemu_pid=
cleanup() {
  if [[ -n "$qemu_pid" ]] && kill -0 "$qemu_pid" 2>/dev/null; then kill "$qemu_pid" 2>/dev/null || true; fi
  if ((keep)); then echo "smoke: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# qmp COMMAND: sends one QMP command on $tmp/qmp.sock; prints the reply (or nothing if QEMU is gone).
qmp() {
  python3 - "$tmp/qmp.sock" "$1" <<'EOF'
import json, socket, sys
try:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    f = s.makefile("rw")
    f.readline()  # greeting
    for cmd in ("qmp_capabilities", sys.argv[2]):
        f.write(json.dumps({"execute": cmd}) + "\n"); f.flush()
        while True:
            reply = json.loads(f.readline())
            if "return" in reply or "error" in reply:
                break
    print(json.dumps(reply))
except (OSError, ValueError):
    pass
EOF
}

# wait_console PATTERN COUNT TIMEOUT: waits until PATTERN appears COUNT times in the serial log.
wait_console() {
  local deadline=$(( $(date +%s) + $3 ))
  while (( $(cat "$tmp/console.log" 2>/dev/null | grep -c -- "$1") < $2 )); do
    kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited while waiting for '$1'"
    (( $(date +%s) < deadline )) || fail "no '$1' (#$2) on the console within $3 s"
    sleep 0.1
  done
}

# wait_ssh: waits for the SSH banner (sub-second TCP probe), then runs the command with ssh, retrying.
ssh_opts=(-i "$tmp/key" -p "${PORT:-0}" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
          -o LogLevel=ERROR -o ConnectTimeout=5 -o BatchMode=yes)
guest_ssh() {
  local _
  python3 - "$port" <<'EOF' || fail "no SSH banner on 127.0.0.1:$port"
import socket, sys, time
deadline = time.time() + 60
while time.time() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as s:
            s.settimeout(2)
            if s.recv(64).startswith(b"SSH-"):
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
EOF
  for _ in 1 2 3 4 5; do
    if ssh "${ssh_opts[@]}" root@127.0.0.1 "$1" > "$tmp/ssh.out" 2> "$tmp/ssh.err"; then return 0; fi
    sleep 1
  done
  fail "ssh failed: $(cat "$tmp/ssh.err")"
}

# --- image ---
if [[ -n "${IMAGE:-}" ]]; then
  image="$IMAGE"
  say "using image $image"
  t_build="-"
else
  image="$tmp/image.qcow2"
  s=$(date +%s.%N)
  "$repo/tools/build-test-image" "$image" || fail "tools/build-test-image failed"
  t_build=$(since "$s")
fi
image_kib=$(du -k "$image" | cut -f1)

# --- config drive ---
uuid=$(cat /proc/sys/kernel/random/uuid)
ssh-keygen -q -t ed25519 -N '' -C smoke@ciel -f "$tmp/key"
mkdir -p "$tmp/cd/openstack/latest"
cat > "$tmp/cd/openstack/latest/meta_data.json" <<EOF
{"uuid": "$uuid", "name": "smoke-vm", "hostname": "smoke-vm.novalocal", "launch_index": 0,
 "availability_zone": "nova", "project_id": "smoke", "meta": {},
 "public_keys": {"smoke": "$(cat "$tmp/key.pub")"},
 "keys": [{"name": "smoke", "type": "ssh", "data": "$(cat "$tmp/key.pub")"}]}
EOF
cat > "$tmp/cd/openstack/latest/user_data" <<'EOF'
#!/bin/sh
echo "user_data: hello from $(hostname)"
echo "user-data ran at uptime $(cut -d' ' -f1 /proc/uptime)" > /root/user-data-ran
EOF
mac=fa:16:3e:5e:00:01
case "$network" in
  dhcp) net='{"id": "network0", "type": "ipv4_dhcp", "link": "tap0", "network_id": "n0"}' ;;
  # QEMU's user-mode network: the guest is 10.0.2.15, the gateway 10.0.2.2, DNS 10.0.2.3.
  static) net='{"id": "network0", "type": "ipv4", "link": "tap0", "network_id": "n0", "ip_address": "10.0.2.15",
                "netmask": "255.255.255.0", "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.2.2"}],
                "services": [{"type": "dns", "address": "10.0.2.3"}]}' ;;
  *) fail "NETWORK must be dhcp or static" ;;
esac
cat > "$tmp/cd/openstack/latest/network_data.json" <<EOF
{"links": [{"id": "tap0", "type": "ovs", "ethernet_mac_address": "${mac^^}", "mtu": 1500, "vif_id": "v0"}],
 "networks": [$net],
 "services": [{"type": "dns", "address": "10.0.2.3"}]}
EOF
xorriso -as mkisofs -quiet -R -J -V config-2 -o "$tmp/config-2.iso" "$tmp/cd" 2>/dev/null || fail "xorriso failed"
case "$config_drive" in
  ide) cd_args=(-drive "file=$tmp/config-2.iso,media=cdrom,if=ide,readonly=on") ;;
  virtio) cd_args=(-drive "file=$tmp/config-2.iso,if=virtio,format=raw,readonly=on") ;;
  *) fail "CONFIG_DRIVE must be ide or virtio" ;;
esac

# --- boot ---
port="${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
ssh_opts[3]="$port"
qemu-img create -q -f qcow2 -b "$image" -F qcow2 "$tmp/disk.qcow2"
say "booting instance $uuid (machine: $machine, config drive: $config_drive, ssh on 127.0.0.1:$port)"
boot=$(date +%s.%N)
qemu-system-x86_64 -M "$machine" -accel tcg -m 256 -smp 1 -nodefaults -no-user-config -display none \
  -serial "file:$tmp/console.log" -qmp "unix:$tmp/qmp.sock,server=on,wait=off" \
  -drive "file=$tmp/disk.qcow2,if=virtio,format=qcow2,discard=unmap" \
  -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22" \
  -device "virtio-net-pci,netdev=n0,mac=$mac" -device virtio-rng-pci \
  "${cd_args[@]}" > "$tmp/qemu.out" 2>&1 &
qemu_pid=$!

wait_console "ciel-guest: kernel" 1 "$marker_timeout"
t_kernel=$(since "$boot")
wait_console "ciel-guest-ready $uuid" 1 "$marker_timeout"
t_marker=$(since "$boot")
say "kernel up after $t_kernel s, marker 'ciel-guest-ready $uuid' after $t_marker s"
guest_ssh 'uname -a; hostname; cat /root/user-data-ran; ip -4 -o addr show eth0; ip -4 route; cat /etc/resolv.conf'
t_ssh=$(since "$boot")
say "ssh after $t_ssh s:"
sed 's/^/    /' "$tmp/ssh.out"
grep -q '^Linux smoke-vm ' "$tmp/ssh.out" || fail "uname -a does not show hostname smoke-vm"
grep -q '^user-data ran' "$tmp/ssh.out" || fail "/root/user-data-ran missing: user_data did not run"
grep -q 'user_data: hello from smoke-vm' "$tmp/console.log" || fail "user_data output not on the console"
grep -q 'inet 10.0.2.15/24' "$tmp/ssh.out" || fail "eth0 is not 10.0.2.15/24"
if [[ "$network" == static ]]; then
  grep -q 'eth0: static ipv4 10.0.2.15' "$tmp/console.log" || fail "network_data.json static address not applied"
  grep -q 'default via 10.0.2.2' "$tmp/ssh.out" || fail "network_data.json default route not applied"
  grep -q 'nameserver 10.0.2.3' "$tmp/ssh.out" || fail "network_data.json DNS not applied"
fi

# --- reboot: QMP system_reset; user_data must not run a second time for the same instance ---
reset=$(date +%s.%N)
qmp system_reset | grep -q return || fail "QMP system_reset failed"
wait_console "ciel-guest: kernel" 2 "$marker_timeout"
t_reboot_kernel=$(since "$reset")
wait_console "ciel-guest-ready $uuid" 2 "$marker_timeout"
t_reboot=$(since "$reset")
grep -q "user_data already ran for instance $uuid" "$tmp/console.log" || fail "user_data ran again after reboot"
guest_ssh 'test ! -e /root/user-data-ran && echo user_data-not-rerun'
grep -q user_data-not-rerun "$tmp/ssh.out" || fail "/root/user-data-ran exists after reboot"
say "rebooted (system_reset): kernel up after $t_reboot_kernel s, marker after $t_reboot s; user_data not run again"

# --- stop: QMP system_powerdown (ACPI power button), repeated until QEMU exits, as Nova does ---
down=$(date +%s.%N)
deadline=$(( $(date +%s) + 60 ))
while kill -0 "$qemu_pid" 2>/dev/null; do
  (( $(date +%s) < deadline )) || fail "QEMU still running 60 s after system_powerdown"
  qmp system_powerdown > /dev/null
  for _ in $(seq 20); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; done
done
rc=0; wait "$qemu_pid" || rc=$?
qemu_pid=
t_down=$(since "$down")
((rc == 0)) || fail "QEMU exited with status $rc: $(cat "$tmp/qemu.out")"
grep -q 'ACPI power button' "$tmp/console.log" || fail "guest did not see the power button"
say "powered off (system_powerdown) in $t_down s; QEMU exit status 0"

echo "smoke: OK build=${t_build}s image=${image_kib}KiB marker=${t_marker}s ssh=${t_ssh}s reboot=${t_reboot}s powerdown=${t_down}s machine=$machine config_drive=$config_drive network=$network"

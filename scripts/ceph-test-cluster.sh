#!/usr/bin/env bash
# A private single-node Ceph cluster for the RADOS blob store tests.
#   scripts/ceph-test-cluster.sh start DIR   create a cluster in DIR (one monitor, one OSD on
#                                            BlueStore in a sparse file, a pool `ciel`, a user
#                                            client.ciel), start it on 127.0.0.1 and print on stdout:
#                                              export CIEL_TEST_RADOS_CONF=DIR/ceph.conf ...
#                                            so the caller can `eval "$(... start DIR)"`.
#   scripts/ceph-test-cluster.sh stop DIR    stop it; succeeds if it is not running.
# Everything else goes to stderr. Needs the Debian packages ceph-mon, ceph-osd and ceph-common
# (group `test` in scripts/packages.txt). Nothing outside DIR is written: no /etc/ceph, no
# /var/lib/ceph, no loop device, no LVM. The monitor listens on a free port picked at start; the
# OSD binds in a range just above it.
# CEPH_TEST_OSD_BYTES sets the apparent size of the OSD's sparse block file (default 10 GiB; only
# what is written takes disk space): bench/objstore/run.sh PEER=radosgw asks for more.
#
# Test cluster only: one replica (size 1) and no manager daemon (a client needs none; without it
# `ceph -s` reports HEALTH_WARN "no active mgr", which the script does not wait on). The OSD
# writes through BlueStore with its own checksums and a real commit; only redundancy is missing.
set -euo pipefail

die() { echo "ceph-test-cluster: $*" >&2; exit 1; }
log() { echo "ceph-test-cluster: $*" >&2; }

cmd="${1:-}"
dir="${2:-}"
[[ ( "$cmd" == start || "$cmd" == stop ) && -n "$dir" ]] || die "usage: $0 start|stop DIR"
[[ "${CEPH_TEST_OSD_BYTES:-10737418240}" =~ ^[0-9]+$ ]] || die "CEPH_TEST_OSD_BYTES: not a byte count"

stop_daemons() {
  local pidfile pid
  for pidfile in "$dir"/run/osd.pid "$dir"/run/mon.pid; do
    [[ -f "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

if [[ "$cmd" == stop ]]; then
  [[ -d "$dir" ]] || exit 0
  dir="$(cd "$dir" && pwd)"
  stop_daemons
  exit 0
fi

# --- start ---------------------------------------------------------------------------------
for tool in ceph-mon ceph-osd ceph-authtool monmaptool ceph uuidgen; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (install the Debian packages ceph-mon, ceph-osd, ceph-common, uuid-runtime)"
done
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
[[ -f "$dir/ceph.conf" ]] && die "$dir already holds a cluster; stop it and use a new DIR"
mkdir -p "$dir"/{mon,osd,run,log,crash}
# Unix socket paths (admin sockets) are limited to 107 bytes.
(( ${#dir} <= 80 )) || die "DIR is too long for admin socket paths: $dir"

# A free port for the monitor, and a range of 40 above it for the OSD's messengers.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
mon_port=""
for _ in $(seq 1 50); do
  p=$(( 20000 + RANDOM % 20000 ))
  ok=1
  for q in $p $((p + 1)) $((p + 5)) $((p + 20)) $((p + 40)); do port_free "$q" || ok=0; done
  if (( ok )); then mon_port=$p; break; fi
done
[[ -n "$mon_port" ]] || die "no free port range on 127.0.0.1"

fsid="$(uuidgen)"
cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$mon_port
public_network = 127.0.0.0/8
ms_bind_ipv4 = true
ms_bind_ipv6 = false
ms_bind_msgr1 = false
ms_bind_port_min = $((mon_port + 1))
ms_bind_port_max = $((mon_port + 40))
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
keyring = $dir/\$cluster.\$name.keyring
run_dir = $dir/run
admin_socket = $dir/run/\$cluster-\$name.asok
log_file = $dir/log/\$cluster-\$name.log
crash_dir = $dir/crash
pid_file = $dir/run/\$type.pid
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 5
mon_data_avail_crit = 1
osd_crush_chooseleaf_type = 0
osd_memory_target = 1073741824
bluestore_cache_autotune = false
bluestore_cache_size = 134217728
debug_ms = 0
[client]
# Clients (Ciel, the rados command) run many at a time: no shared admin socket, a log per process.
admin_socket =
log_file = $dir/log/\$cluster-\$name.\$pid.log
[mon]
mon_data = $dir/mon/\$cluster-\$id
mon_cluster_log_file = $dir/log/\$cluster.log
[osd]
osd_data = $dir/osd/\$cluster-\$id
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = ${CEPH_TEST_OSD_BYTES:-10737418240}
bluestore_block_db_create = false
bluestore_block_wal_create = false
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1
EOF
export CEPH_CONF="$dir/ceph.conf"
unset CEPH_ARGS CEPH_KEYRING

start_ms=$(date +%s%3N)
log "creating keys and the monitor map (mon on 127.0.0.1:$mon_port)"
ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$dir/ceph.client.admin.keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$dir/mon.keyring" --import-keyring "$dir/ceph.client.admin.keyring" >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring" >/dev/null 2>&1 \
  || die "ceph-mon --mkfs failed (see $dir/log)"
cp "$dir/mon.keyring" "$dir/mon/ceph-a/keyring"
setsid ceph-mon -f -i a </dev/null >>"$dir/log/mon.out" 2>&1 &
echo $! >"$dir/run/mon.pid"

ceph_cmd() { timeout 30 ceph --connect-timeout 20 "$@"; }
ceph_cmd mon stat >/dev/null 2>&1 || { stop_daemons; die "the monitor did not come up (see $dir/log)"; }

log "creating the OSD (BlueStore in a sparse file)"
osd_uuid="$(uuidgen)"
osd_secret="$(ceph-authtool --gen-print-key)"
osd_id="$(echo "{\"cephx_secret\": \"$osd_secret\"}" | ceph_cmd osd new "$osd_uuid" -i - -n client.admin)"
[[ "$osd_id" == 0 ]] || { stop_daemons; die "unexpected OSD id '$osd_id'"; }
mkdir -p "$dir/osd/ceph-0"
ceph-authtool --create-keyring "$dir/osd/ceph-0/keyring" --name osd.0 --add-key "$osd_secret" >/dev/null
cp "$dir/osd/ceph-0/keyring" "$dir/ceph.osd.0.keyring"
ceph-osd --mkfs -i 0 --osd-uuid "$osd_uuid" --keyring "$dir/osd/ceph-0/keyring" >>"$dir/log/osd-mkfs.out" 2>&1 \
  || { stop_daemons; die "ceph-osd --mkfs failed (see $dir/log/osd-mkfs.out)"; }
setsid ceph-osd -f -i 0 </dev/null >>"$dir/log/osd.out" 2>&1 &
echo $! >"$dir/run/osd.pid"

log "creating pool ciel and user client.ciel"
ceph_cmd osd pool create ciel 8 8 replicated >/dev/null 2>&1 || { stop_daemons; die "cannot create pool ciel"; }
ceph_cmd osd pool set ciel size 1 --yes-i-really-mean-it >/dev/null 2>&1 || true
ceph_cmd osd pool application enable ciel rados >/dev/null 2>&1 || true
ceph_cmd auth get-or-create client.ciel mon 'allow r' osd 'allow rwx' \
  -o "$dir/ceph.client.ciel.keyring" >/dev/null 2>&1 || { stop_daemons; die "cannot create client.ciel"; }

# Ready once a client can write and remove an object in the pool (every PG active).
ready=0
for _ in $(seq 1 120); do
  if echo probe | timeout 10 rados --id ciel -p ciel put ciel-probe - 2>/dev/null \
     && timeout 10 rados --id ciel -p ciel rm ciel-probe 2>/dev/null; then
    ready=1
    break
  fi
  kill -0 "$(cat "$dir/run/osd.pid")" 2>/dev/null || break
  sleep 0.5
done
if (( ! ready )); then
  stop_daemons
  die "the OSD did not become ready (see $dir/log)"
fi
log "cluster ready in $(( ($(date +%s%3N) - start_ms) / 1000 )) s"
echo "export CIEL_TEST_RADOS_CONF=$dir/ceph.conf CIEL_TEST_RADOS_USER=ciel CIEL_TEST_RADOS_POOL=ciel"

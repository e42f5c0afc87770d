# shellcheck shell=bash
# Ceph's RADOS Gateway from Debian (package radosgw) as a private S3 peer, on a private
# single-node Ceph cluster that Ciel's RADOS blob store can share (objstore/run.sh PEER=radosgw).
#
#   ceph_start                 start a cluster with scripts/ceph-test-cluster.sh in a private dir
#                              (one monitor, one OSD on BlueStore in a sparse file, pool `ciel`
#                              with 8 PGs, user client.ciel); exports CEPH_DIR, CEPH_CONF_FILE,
#                              CEPH_PIDS (monitor and OSD), RADOS_USER, RADOS_POOL; stopped at exit
#   radosgw_start              start radosgw on it, beast frontend on a free 127.0.0.1 port;
#                              exports RGW_URL (http://127.0.0.1:PORT), RGW_PID, RGW_ASOK; the S3
#                              user `bench` has access key "bench" and secret "bench"
#   radosgw_config NAME        print one setting of the running radosgw (its admin socket)
#   ceph_version               print the installed Ceph version
#
# Knobs (environment): CEPH_OSD_BYTES (apparent size of the OSD's block file, default 40 GiB;
# sparse: only what is written takes disk space), RGW_PG_NUM (PGs of each pool radosgw creates,
# default 8, as the `ciel` pool).
#
# radosgw runs as Debian ships it but for what the private setup needs: `radosgw -f -n
# client.rgw.bench` with its own cephx key (mon 'allow rw', osd 'allow rwx'), rgw_frontends
# "beast endpoint=127.0.0.1:PORT tcp_nodelay=1", rgw_data, its log file and admin socket in the
# private dir. Everything else is Ceph's default: rgw_obj_stripe_size and rgw_max_chunk_size 4 MiB,
# rgw_put_obj_min_window_size and rgw_get_obj_window_size 16 MiB, rgw_thread_pool_size 512,
# debug_rgw 1/5 (one log line per request and its access line), the default zone and zonegroup
# with 11 bucket index shards. It creates its pools itself on first use (.rgw.root,
# default.rgw.log, .control, .meta, .buckets.index, .buckets.data); the monitor's
# osd_pool_default_pg_num is set to RGW_PG_NUM first, so that they get as many PGs as `ciel`, with
# the cluster's size 1. Nothing is written under /etc/ceph or /var/lib/ceph.
#
# Durability is the cluster's: every write of either system is a RADOS write that the OSD
# acknowledges after BlueStore has committed it (its RocksDB WAL synced; data written before).

# shellcheck source=bench/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CEPH_CLUSTER_SCRIPT="$(cd "$BENCH_DIR/.." && pwd)/scripts/ceph-test-cluster.sh"

ceph_version() { ceph --version 2>/dev/null | awk '{ print $3 }'; }

_ceph() { timeout 60 ceph --conf "$CEPH_CONF_FILE" --connect-timeout 20 "$@"; }

ceph_start() {
  local out
  unset CEPH_ARGS CEPH_KEYRING
  CEPH_DIR="$(bench_tmpdir ceph)"
  bench_on_exit "bash '$CEPH_CLUSTER_SCRIPT' stop '$CEPH_DIR' >/dev/null 2>&1"
  out="$(CEPH_TEST_OSD_BYTES="${CEPH_OSD_BYTES:-42949672960}" bash "$CEPH_CLUSTER_SCRIPT" start "$CEPH_DIR" 2>"$CEPH_DIR.log")" || {
    tail -20 "$CEPH_DIR.log" >&2
    bench_die "the Ceph cluster did not start"
  }
  # "export CIEL_TEST_RADOS_CONF=... CIEL_TEST_RADOS_USER=... CIEL_TEST_RADOS_POOL=..."
  eval "$out"
  CEPH_CONF_FILE="$CIEL_TEST_RADOS_CONF" RADOS_USER="$CIEL_TEST_RADOS_USER" RADOS_POOL="$CIEL_TEST_RADOS_POOL"
  CEPH_PIDS="$(cat "$CEPH_DIR/run/mon.pid") $(cat "$CEPH_DIR/run/osd.pid")"
  export CEPH_DIR CEPH_CONF_FILE CEPH_PIDS RADOS_USER RADOS_POOL
}

radosgw_config() { timeout 20 ceph --admin-daemon "$RGW_ASOK" config get "$1" 2>/dev/null | "$BENCH_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

radosgw_start() {
  local port name=client.rgw.bench
  [[ -n "${CEPH_DIR:-}" ]] || bench_die "radosgw_start: no cluster (ceph_start first)"
  command -v radosgw >/dev/null || bench_die "radosgw not found (package radosgw, bench/packages.txt)"
  if ! { _ceph config set mon osd_pool_default_pg_num "${RGW_PG_NUM:-8}" &&
    _ceph config set mon osd_pool_default_pgp_num "${RGW_PG_NUM:-8}"; } >/dev/null 2>&1; then
    bench_die "radosgw: cannot set the pools' default PG count"
  fi
  # The keyring is where ceph.conf looks for every name: <dir>/ceph.<name>.keyring
  _ceph auth get-or-create "$name" mon 'allow rw' osd 'allow rwx' -o "$CEPH_DIR/ceph.$name.keyring" >/dev/null 2>&1 ||
    bench_die "radosgw: cannot create the key of $name"
  mkdir -p "$CEPH_DIR/rgw"
  port="$(free_port)"
  RGW_ASOK="$CEPH_DIR/run/rgw.asok"
  radosgw -f --conf "$CEPH_CONF_FILE" -n "$name" \
    --rgw_frontends "beast endpoint=127.0.0.1:$port tcp_nodelay=1" \
    --rgw_data "$CEPH_DIR/rgw" --log_file "$CEPH_DIR/log/radosgw.log" --admin_socket "$RGW_ASOK" \
    </dev/null >"$CEPH_DIR/log/radosgw.out" 2>&1 &
  RGW_PID=$!
  bench_on_exit "bench_stop_pid $RGW_PID 30"
  RGW_URL="http://127.0.0.1:$port"
  # The first start creates the realm, zonegroup and zone and their pools: 10 to 20 s here.
  wait_http "$RGW_URL/" 120 || { tail -20 "$CEPH_DIR/log/radosgw.out" "$CEPH_DIR/log/radosgw.log" >&2; bench_die "radosgw did not start"; }
  timeout 60 radosgw-admin --conf "$CEPH_CONF_FILE" user create --uid bench --display-name bench \
    --access-key bench --secret-key bench >"$CEPH_DIR/log/user.json" 2>&1 ||
    { cat "$CEPH_DIR/log/user.json" >&2; bench_die "radosgw: cannot create the S3 user bench"; }
  export RGW_URL RGW_PID RGW_ASOK
}

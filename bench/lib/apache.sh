# shellcheck shell=bash
# Debian's Apache 2 with mod_dav / mod_dav_fs as a private WebDAV peer: its own ServerRoot,
# config, htpasswd file, DAV lock database, logs and PidFile in a private temp dir, listening on
# 127.0.0.1 only. /etc/apache2 and the system service are never touched or started.
#
#   apache_start [PORT]   serve a WebDAV folder at http://127.0.0.1:PORT/dav/ behind HTTP Basic
#                         auth; exports APACHE_URL (the DAV root, trailing slash), APACHE_BASE
#                         (http://127.0.0.1:PORT), APACHE_PID (the parent process), APACHE_DIR
#                         (the private dir), APACHE_USER / APACHE_PASS (the htpasswd user),
#                         APACHE_DAV_DIR (the folder served)
#   apache_stop           stop it (also done at exit)
#   apache_version        print Apache's version ("2.4.62")
#
# The config keeps what Debian's default install sets (/etc/apache2/apache2.conf, mpm_event.conf,
# the default vhost's access log in the combined format, mod_mime with /etc/mime.types) and adds
# the DAV folder:
#   <Directory DAV_DIR> Dav On, AuthType Basic, AuthBasicProvider file, AuthUserFile (made by
#   htpasswd with its default hash, MD5 apr1), Require valid-user
#   DavLockDB in the private dir (Debian's dav_fs.conf puts it in /var/lock/apache2)
# Apache runs in the foreground (-DFOREGROUND) as a child of the benchmark. Started as root (the
# way bench runs) its workers switch to www-data, as Debian's do: the DAV folder and the lock
# dir belong to www-data. Started as another user, everything stays that user's.

# shellcheck source=bench/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

APACHE_MODULES=/usr/lib/apache2/modules

apache_version() {
  apache2 -v 2>/dev/null | awk -F'[/ ]' '/^Server version/ { print $4; exit }'
}

apache_start() {
  local port="${1:-}" dir user group m
  command -v apache2 >/dev/null || bench_die "apache_start: no apache2 (package apache2)"
  command -v htpasswd >/dev/null || bench_die "apache_start: no htpasswd (package apache2-utils)"
  [[ -n "$port" ]] || port="$(free_port)"
  dir="$(bench_tmpdir apache)"
  chmod 755 "$dir"   # workers (www-data) must reach the DAV folder and the htpasswd file
  mkdir -p "$dir/logs" "$dir/run" "$dir/lock" "$dir/dav" "$dir/www"
  if ((EUID == 0)); then user=www-data group=www-data; else user="$(id -un)" group="$(id -gn)"; fi
  chown "$user:$group" "$dir/dav" "$dir/lock"
  APACHE_USER=bench
  APACHE_PASS="bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  htpasswd -c -b "$dir/htpasswd" "$APACHE_USER" "$APACHE_PASS" 2>/dev/null ||
    bench_die "apache_start: htpasswd failed"
  chmod 644 "$dir/htpasswd"

  {
    echo "ServerRoot \"$dir\""
    echo "ServerName 127.0.0.1"
    for m in mpm_event authn_core authn_file authz_core authz_user auth_basic alias mime dav dav_fs; do
      echo "LoadModule ${m}_module $APACHE_MODULES/mod_$m.so"
    done
    cat <<EOF
# Debian's apache2.conf
DefaultRuntimeDir "$dir/run"
PidFile "$dir/run/apache2.pid"
Timeout 300
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 5
User $user
Group $group
HostnameLookups Off
ErrorLog "$dir/logs/error.log"
LogLevel warn
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
<Directory />
	Options FollowSymLinks
	AllowOverride None
	Require all denied
</Directory>
AccessFileName .htaccess
<FilesMatch "^\.ht">
	Require all denied
</FilesMatch>

# Debian's mods-available/mpm_event.conf
StartServers            2
MinSpareThreads         25
MaxSpareThreads         75
ThreadLimit             64
ThreadsPerChild         25
MaxRequestWorkers       150
MaxConnectionsPerChild  0

# Debian's mods-available/mime.conf (the part that matters here)
TypesConfig /etc/mime.types

# Debian's ports.conf and 000-default.conf, on a private port
Listen 127.0.0.1:$port
DocumentRoot "$dir/www"
CustomLog "$dir/logs/access.log" combined

# the WebDAV folder
DavLockDB "$dir/lock/DavLock"
Alias /dav/ "$dir/dav/"
<Directory "$dir/dav">
	Dav On
	Options None
	AllowOverride None
	AuthType Basic
	AuthName "bench"
	AuthBasicProvider file
	AuthUserFile "$dir/htpasswd"
	Require valid-user
</Directory>
EOF
  } >"$dir/apache2.conf"

  if ! apache2 -d "$dir" -f "$dir/apache2.conf" -t >"$dir/logs/check.log" 2>&1; then
    bench_log "apache_start: config rejected:"; cat "$dir/logs/check.log" >&2
    return 1
  fi
  apache2 -d "$dir" -f "$dir/apache2.conf" -DFOREGROUND </dev/null >>"$dir/logs/stdout.log" 2>&1 &
  APACHE_PID=$!
  APACHE_DIR="$dir"
  APACHE_DAV_DIR="$dir/dav"
  APACHE_BASE="http://127.0.0.1:$port"
  APACHE_URL="$APACHE_BASE/dav/"
  export APACHE_PID APACHE_DIR APACHE_DAV_DIR APACHE_BASE APACHE_URL APACHE_USER APACHE_PASS
  bench_on_exit apache_stop
  if ! wait_http "$APACHE_URL" 20; then
    bench_log "apache_start: apache2 did not come up; error log:"
    cat "$dir/logs/error.log" "$dir/logs/stdout.log" >&2
    apache_stop
    return 1
  fi
}

apache_stop() {
  [[ -n "${APACHE_PID:-}" ]] || return 0
  # TERM: the parent stops its children and exits
  bench_stop_pid "$APACHE_PID" 15
  APACHE_PID=""
}

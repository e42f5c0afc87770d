# shellcheck shell=bash
# Debian's nginx (nginx-light) as a private peer: own prefix, own nginx.conf, loopback only.
# /etc/nginx and the system service are never touched.
#
#   nginx_start ROOT_DIR [PORT]   serve ROOT_DIR on 127.0.0.1:PORT (default: a free port);
#                                 exports NGINX_URL (no trailing slash), NGINX_PID (master),
#                                 NGINX_DIR (private prefix: nginx.conf, logs, temp dirs)
#   nginx_stop                    stop it (also done at exit) and forget the prefix
#
# The config follows Debian's default /etc/nginx/nginx.conf (worker_processes auto, user
# www-data, sendfile, tcp_nopush, an access log to a file, gzip on) minus the includes of
# /etc/nginx; nginx runs in the foreground (daemon off) as a child of the benchmark.

# shellcheck source=bench/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

nginx_start() {
  local root="$1" port="${2:-}" dir
  [[ -d "$root" ]] || bench_die "nginx_start: no directory $root"
  [[ -n "$port" ]] || port="$(free_port)"
  dir="$(bench_tmpdir nginx)"
  # workers run as www-data, as in Debian's default install: they must be able to read the root
  chmod 755 "$dir"
  mkdir -p "$dir/logs" "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
user www-data;
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
daemon off;

events {
	worker_connections 768;
}

http {
	sendfile on;
	tcp_nopush on;
	types_hash_max_size 2048;
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log $dir/logs/access.log;
	gzip on;

	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;

	server {
		listen 127.0.0.1:$port;
		server_name localhost;
		root $root;
		location / {
			try_files \$uri \$uri/ =404;
		}
	}
}
EOF
  # -e: nginx opens its error log before reading the config; keep even that out of /var/log
  if ! nginx -t -q -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" 2>"$dir/logs/check.log"; then
    bench_log "nginx_start: config rejected:"; cat "$dir/logs/check.log" >&2
    return 1
  fi
  nginx -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" </dev/null >>"$dir/logs/stdout.log" 2>&1 &
  NGINX_PID=$!
  NGINX_DIR="$dir"
  NGINX_URL="http://127.0.0.1:$port"
  export NGINX_PID NGINX_DIR NGINX_URL
  bench_on_exit nginx_stop
  if ! wait_http "$NGINX_URL/" 20; then
    bench_log "nginx_start: nginx did not come up; error log:"; cat "$dir/logs/error.log" >&2
    nginx_stop
    return 1
  fi
}

nginx_stop() {
  [[ -n "${NGINX_PID:-}" ]] || return 0
  # TERM = fast shutdown of master and workers
  bench_stop_pid "$NGINX_PID" 10
  NGINX_PID=""
}

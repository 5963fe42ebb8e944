# shellcheck shell=bash
# Shared helpers for scripts/test.sh and scripts/stack.sh.
#
# Source it (do not execute it):   source "$ROOT/scripts/lib.sh"
#
# Every ensure_* helper is idempotent: it reuses what is already installed or
# already running, installs (apt-get) / starts only what is missing, and logs
# one short line to stderr. Whatever a helper *starts* is recorded, so that
# stop_started can stop exactly that (and never a server that was already
# running before the script).
#
# Environment knobs (all optional):
#   MYSQL_PORT (3306)  REDIS_PORT (6379)  MONGO_PORT (27017, preferred)
#   MYSQL_BASE_URL / REDIS_URL / MONGODB_URI  - if set, that server is used
#                                               as-is and nothing is started
#   LIB_RUN_DIR        - where pid/log files of started servers go
#                        (default: a fresh mktemp dir)
#   SECANTUS_VERSION   - pinned secantus-mdb version

# Guard against being sourced twice.
if [[ -n "${_CHAT_LIB_SOURCED:-}" ]]; then
  return 0
fi
_CHAT_LIB_SOURCED=1

SECANTUS_VERSION="${SECANTUS_VERSION:-=0.5.3-beta.196}"

# Things we started: parallel arrays (description, pid, stop-timeout, mode).
# mode "group" = the pid leads its own process group (started with setsid);
# the whole group is signalled.
_STARTED_NAMES=()
_STARTED_PIDS=()
_STARTED_TIMEOUTS=()
_STARTED_MODES=()
_LIB_APT_UPDATED=""

if [[ $(id -u) -eq 0 ]]; then
  _SUDO=()
else
  _SUDO=(sudo)
fi

log() { printf '[%s] %s\n' "${LOG_TAG:-chat}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Directory for pid files / logs of servers we start.
lib_run_dir() {
  if [[ -z "${LIB_RUN_DIR:-}" ]]; then
    LIB_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/chat-run.XXXXXX")"
  fi
  mkdir -p "$LIB_RUN_DIR"
  printf '%s\n' "$LIB_RUN_DIR"
}

# port_open HOST PORT -> 0 if something accepts TCP connections there.
port_open() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# wait_port HOST PORT TIMEOUT [PID]: wait until the port accepts; if PID is
# given, fail early when that process dies.
wait_port() {
  local host=$1 port=$2 timeout=$3 pid=${4:-} i
  for ((i = 0; i < timeout * 4; i++)); do
    port_open "$host" "$port" && return 0
    if [[ -n "$pid" ]] && ! _running "$pid"; then
      return 1
    fi
    sleep 0.25
  done
  return 1
}

# free_port PREFERRED -> prints PREFERRED if free, else some free port.
free_port() {
  local preferred=$1 p
  if ! port_open 127.0.0.1 "$preferred"; then
    printf '%s\n' "$preferred"
    return 0
  fi
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
    return 0
  fi
  for ((p = preferred + 1; p < preferred + 200; p++)); do
    if ! port_open 127.0.0.1 "$p"; then
      printf '%s\n' "$p"
      return 0
    fi
  done
  return 1
}

# register_started NAME PID [STOP_TIMEOUT_S] [group]
register_started() {
  _STARTED_NAMES+=("$1")
  _STARTED_PIDS+=("$2")
  _STARTED_TIMEOUTS+=("${3:-10}")
  _STARTED_MODES+=("${4:-pid}")
}

# ---------------------------------------------------------------------------
# apt

apt_installed() {
  local s
  s="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
  [[ "$s" == "install ok installed" ]]
}

# ensure_apt_packages PKG... : installs only the missing ones.
ensure_apt_packages() {
  local missing=() p
  for p in "$@"; do
    apt_installed "$p" || missing+=("$p")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "apt: already installed: $*"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "apt-get not found; please install: ${missing[*]}"
  if [[ -z "$_LIB_APT_UPDATED" ]]; then
    "${_SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 ||
      log "apt-get update failed (continuing)"
    _LIB_APT_UPDATED=1
  fi
  log "apt: installing ${missing[*]}"
  "${_SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed"
}

# ---------------------------------------------------------------------------
# Rust toolchain

_cargo_bin_on_path() {
  case ":$PATH:" in
    *":$HOME/.cargo/bin:"*) ;;
    *) [[ -d "$HOME/.cargo/bin" ]] && export PATH="$HOME/.cargo/bin:$PATH" ;;
  esac
  return 0
}

ensure_rust() {
  _cargo_bin_on_path
  if command -v cargo >/dev/null 2>&1; then
    log "rust: $(cargo --version 2>/dev/null || echo cargo)"
    return 0
  fi
  command -v cc >/dev/null 2>&1 || ensure_apt_packages build-essential pkg-config
  if apt-cache show rustup >/dev/null 2>&1; then
    ensure_apt_packages rustup
    rustup toolchain install stable --profile minimal >&2
    rustup default stable >&2
  else
    log "WARNING: no cargo found and no apt 'rustup' package; installing Debian's"
    log "WARNING: cargo/rustc, which may be too old. Recommended: rustup stable"
    log "WARNING: (https://rustup.rs), then re-run."
    ensure_apt_packages cargo rustc
  fi
  _cargo_bin_on_path
  command -v cargo >/dev/null 2>&1 || die "cargo still not available"
  log "rust: $(cargo --version)"
}

# ---------------------------------------------------------------------------
# schemathesis (the OpenAPI fuzzer of the api-contract tests), pinned, in a virtualenv
# cached under ~/.cache/chat-tools; exports SCHEMATHESIS (its executable).

SCHEMATHESIS_VERSION="4.32.5"

ensure_schemathesis() {
  local venv="${CHAT_TOOLS_DIR:-$HOME/.cache/chat-tools}/schemathesis-$SCHEMATHESIS_VERSION"
  if [[ ! -x "$venv/bin/schemathesis" ]]; then
    command -v python3 >/dev/null 2>&1 || ensure_apt_packages python3
    python3 -c 'import ensurepip' 2>/dev/null || ensure_apt_packages python3-venv
    log "schemathesis: installing $SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" >&2 || die "schemathesis: cannot create $venv"
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" >&2 ||
      { rm -rf "$venv"; die "schemathesis: pip install failed"; }
  fi
  export SCHEMATHESIS="$venv/bin/schemathesis"
  log "schemathesis: $("$SCHEMATHESIS" --version 2>/dev/null)"
}

# ---------------------------------------------------------------------------
# s3s-fs: the S3-compatible server the storage tests run on (crates/chat-files/tests), from
# crates.io, cached in ~/.cargo/bin; exports S3S_FS (its executable).

S3S_FS_VERSION="0.14.1"

ensure_s3s_fs() {
  local bin="$HOME/.cargo/bin/s3s-fs"
  if [[ ! -x "$bin" ]] || ! "$bin" --version 2>/dev/null | grep -qF "$S3S_FS_VERSION"; then
    log "s3s-fs: cargo install s3s-fs $S3S_FS_VERSION (about 3 min once)"
    cargo install s3s-fs --version "=$S3S_FS_VERSION" --features binary --locked >&2 ||
      die "cargo install s3s-fs failed"
  fi
  export S3S_FS="$bin"
  log "s3s-fs: $("$S3S_FS" --version 2>/dev/null)"
}

# ---------------------------------------------------------------------------
# MariaDB

_mysql_cli() {
  if command -v mariadb >/dev/null 2>&1; then echo mariadb
  elif command -v mysql >/dev/null 2>&1; then echo mysql
  else return 1
  fi
}

_mysql_app_user_ok() {
  local cli=$1
  "$cli" --protocol=TCP -h127.0.0.1 -P"${MYSQL_PORT:-3306}" -uchat -pchat \
    -e 'select 1' >/dev/null 2>&1
}

_mysql_create_app_user() {
  local cli=$1 port=${MYSQL_PORT:-3306} sql
  sql="CREATE USER IF NOT EXISTS 'chat'@'localhost' IDENTIFIED BY 'chat';
CREATE USER IF NOT EXISTS 'chat'@'127.0.0.1' IDENTIFIED BY 'chat';
ALTER USER 'chat'@'localhost' IDENTIFIED BY 'chat';
ALTER USER 'chat'@'127.0.0.1' IDENTIFIED BY 'chat';
GRANT ALL PRIVILEGES ON *.* TO 'chat'@'localhost';
GRANT ALL PRIVILEGES ON *.* TO 'chat'@'127.0.0.1';
FLUSH PRIVILEGES;"
  # Debian's root uses unix_socket auth (works as OS root / via sudo);
  # otherwise try root with an empty password over TCP.
  if [[ "$port" == 3306 ]] && "${_SUDO[@]}" "$cli" -uroot -e "$sql" >/dev/null 2>&1; then
    return 0
  fi
  "$cli" --protocol=TCP -h127.0.0.1 -P"$port" -uroot -e "$sql" >/dev/null 2>&1
}

ensure_mariadb() {
  local port=${MYSQL_PORT:-3306} cli rd pid
  if [[ -n "${MYSQL_BASE_URL:-}" ]]; then
    log "mariadb: using MYSQL_BASE_URL from environment"
    export MYSQL_BASE_URL
    return 0
  fi
  if port_open 127.0.0.1 "$port"; then
    log "mariadb: reusing server on 127.0.0.1:$port"
  else
    ensure_apt_packages mariadb-server mariadb-client
    # A fresh install under systemd may have started it already.
    if ! wait_port 127.0.0.1 "$port" 2; then
      rd="$(lib_run_dir)"
      "${_SUDO[@]}" mkdir -p /run/mysqld
      "${_SUDO[@]}" chown mysql:mysql /run/mysqld
      "${_SUDO[@]}" chmod 0755 /run/mysqld
      local daemon=/usr/sbin/mariadbd
      [[ -x "$daemon" ]] || daemon=/usr/sbin/mysqld
      # The server writes its own pid file (where the mysql user may write): that is the pid
      # to stop, whatever wraps it (nohup, sudo).
      local pidfile="/run/mysqld/mariadbd-$port.pid"
      "${_SUDO[@]}" rm -f "$pidfile"
      nohup "${_SUDO[@]}" "$daemon" --user=mysql --port="$port" --bind-address=127.0.0.1 \
        --pid-file="$pidfile" >"$rd/mariadb.log" 2>&1 </dev/null &
      local wrapper=$!
      if ! wait_port 127.0.0.1 "$port" 60 "$wrapper"; then
        tail -n 30 "$rd/mariadb.log" >&2 || true
        # Debian's my.cnf sends the server's own log to log-error.
        [[ -r /var/log/mysql/error.log ]] && tail -n 15 /var/log/mysql/error.log >&2
        die "mariadb did not come up on 127.0.0.1:$port within 60 s (see $rd/mariadb.log, /var/log/mysql/error.log)"
      fi
      pid="$("${_SUDO[@]}" cat "$pidfile" 2>/dev/null || true)"
      [[ -n "$pid" ]] || die "mariadb: no pid in $pidfile"
      register_started "mariadb (127.0.0.1:$port)" "$pid" 30
      log "mariadb: started pid $pid on 127.0.0.1:$port"
    else
      log "mariadb: server came up on 127.0.0.1:$port after install"
    fi
  fi
  cli="$(_mysql_cli)" || { ensure_apt_packages mariadb-client; cli="$(_mysql_cli)"; }
  if _mysql_app_user_ok "$cli"; then
    log "mariadb: user chat already works"
  else
    _mysql_create_app_user "$cli" ||
      die "mariadb: could not create user 'chat' (need root via unix socket or root with empty password over TCP)"
    _mysql_app_user_ok "$cli" || die "mariadb: user 'chat' created but cannot log in"
    log "mariadb: created user chat/chat with ALL on *.*"
  fi
  export MYSQL_BASE_URL="mysql://chat:chat@127.0.0.1:$port"
}

# mysql_exec SQL : run SQL as the app user (only for our own local server).
mysql_exec() {
  local cli
  cli="$(_mysql_cli)"
  "$cli" --protocol=TCP -h127.0.0.1 -P"${MYSQL_PORT:-3306}" -uchat -pchat -e "$1"
}

# ---------------------------------------------------------------------------
# Redis

_redis_ping() {
  local port=$1 reply
  if command -v redis-cli >/dev/null 2>&1; then
    reply="$(timeout 3 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)"
  else
    # shellcheck disable=SC2016  # expanded by the inner bash
    reply="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      printf "PING\r\n" >&3; IFS= read -r -t 2 l <&3; printf "%s" "$l"' _ "$port" 2>/dev/null || true)"
  fi
  [[ "$reply" == *PONG* ]]
}

ensure_redis() {
  local port=${REDIS_PORT:-6379} rd pid="" i
  if [[ -n "${REDIS_URL:-}" ]]; then
    log "redis: using REDIS_URL from environment"
    export REDIS_URL
    return 0
  fi
  if _redis_ping "$port"; then
    log "redis: reusing server on 127.0.0.1:$port"
  else
    port_open 127.0.0.1 "$port" && die "redis: 127.0.0.1:$port is taken by something that does not answer PING"
    ensure_apt_packages redis-server redis-tools
    rd="$(lib_run_dir)"
    rm -f "$rd/redis.pid"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" \
      --appendonly no --dir "$rd" --pidfile "$rd/redis.pid" \
      --logfile "$rd/redis.log" >&2 || die "redis-server failed to start"
    for ((i = 0; i < 40; i++)); do
      [[ -s "$rd/redis.pid" ]] && _redis_ping "$port" && break
      sleep 0.25
    done
    [[ -s "$rd/redis.pid" ]] && pid="$(cat "$rd/redis.pid")"
    if [[ -z "$pid" ]] || ! _redis_ping "$port"; then
      die "redis did not come up on 127.0.0.1:$port (log: $rd/redis.log)"
    fi
    register_started "redis (127.0.0.1:$port)" "$pid" 10
    log "redis: started pid $pid on 127.0.0.1:$port"
  fi
  export REDIS_URL="redis://127.0.0.1:$port"
}

# ---------------------------------------------------------------------------
# MongoDB substitute: secantusd-rs

ensure_secantus_installed() {
  _cargo_bin_on_path
  if command -v secantusd-rs >/dev/null 2>&1; then
    log "secantus: $(command -v secantusd-rs)"
    return 0
  fi
  # Someone else (another shell, a provisioning step) may be installing it
  # right now; building it twice in parallel would only waste CPU.
  if pgrep -f 'cargo install secantus-mdb' >/dev/null 2>&1; then
    log "secantus: a 'cargo install secantus-mdb' is already running; waiting for it"
    while pgrep -f 'cargo install secantus-mdb' >/dev/null 2>&1; do sleep 5; done
    hash -r
    if command -v secantusd-rs >/dev/null 2>&1; then
      log "secantus: $(command -v secantusd-rs)"
      return 0
    fi
  fi
  ensure_rust
  ensure_apt_packages cmake build-essential pkg-config
  log "secantus: cargo install secantus-mdb $SECANTUS_VERSION (takes 6-9 min once)"
  cargo install secantus-mdb --version "$SECANTUS_VERSION" \
    --ignore-rust-version --locked >&2 || die "cargo install secantus-mdb failed"
  hash -r
  command -v secantusd-rs >/dev/null 2>&1 || die "secantusd-rs not found after install"
}

# ensure_mongo DATA_DIR
ensure_mongo() {
  local data_dir=${1:?ensure_mongo DATA_DIR} rd port pid logf
  if [[ -n "${MONGODB_URI:-}" ]]; then
    log "mongo: using MONGODB_URI from environment"
    export MONGODB_URI
    return 0
  fi
  ensure_secantus_installed
  mkdir -p "$data_dir"
  data_dir="$(cd "$data_dir" && pwd)"
  rd="$(lib_run_dir)"
  port="$(free_port "${MONGO_PORT:-27017}")" || die "mongo: no free port"
  logf="$rd/secantusd.log"
  : >"$logf"
  setsid secantusd-rs --host 127.0.0.1 --port "$port" --storage-path "$data_dir" \
    --cache-size 256M --log-file-max 16MB --log-level WARNING --sync-on-commit \
    >"$logf" 2>&1 </dev/null &
  pid=$!
  register_started "secantusd-rs (127.0.0.1:$port)" "$pid" 15 group
  # Ready once it accepts connections on the port we gave it.
  if ! wait_port 127.0.0.1 "$port" 30 "$pid"; then
    tail -n 30 "$logf" >&2 || true
    die "mongo: secantusd-rs did not listen on 127.0.0.1:$port within 30 s (log: $logf)"
  fi
  export MONGODB_URI="mongodb://127.0.0.1:$port/?directConnection=true"
  log "mongo: started secantusd-rs pid $pid on 127.0.0.1:$port (data: $data_dir)"
}

# ---------------------------------------------------------------------------
# misc

# wait_http URL TIMEOUT_S [PID] : poll until the URL answers 2xx.
wait_http() {
  local url=$1 timeout=$2 pid=${3:-} code i
  command -v curl >/dev/null 2>&1 || ensure_apt_packages curl
  for ((i = 0; i < timeout * 2; i++)); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null || true)"
    if [[ "$code" == 2?? ]]; then
      log "ready: $url"
      return 0
    fi
    if [[ -n "$pid" ]] && ! _running "$pid"; then
      log "not ready: $url (process $pid exited)"
      return 1
    fi
    sleep 0.5
  done
  log "not ready after ${timeout}s: $url (last HTTP code: ${code:-none})"
  return 1
}

_signal() { # _signal SIG PID MODE
  if [[ "$3" == group ]]; then
    kill "-$1" -- "-$2" 2>/dev/null || kill "-$1" "$2" 2>/dev/null ||
      "${_SUDO[@]}" kill "-$1" "$2" 2>/dev/null
  else
    kill "-$1" "$2" 2>/dev/null || "${_SUDO[@]}" kill "-$1" "$2" 2>/dev/null
  fi
}

# _running PID -> 0 if the process exists and is not a zombie.
_running() {
  local st
  st="$(ps -o stat= -p "$1" 2>/dev/null || true)"
  st="${st//[[:space:]]/}"
  [[ -n "$st" && "$st" != Z* ]]
}

# stop_started: stop (newest first) everything registered by this script.
stop_started() {
  local i name pid t mode j
  for ((i = ${#_STARTED_PIDS[@]} - 1; i >= 0; i--)); do
    name=${_STARTED_NAMES[i]} pid=${_STARTED_PIDS[i]}
    t=${_STARTED_TIMEOUTS[i]} mode=${_STARTED_MODES[i]}
    [[ -n "$pid" ]] || continue
    if ! _running "$pid"; then
      log "stopped: $name (pid $pid had already exited)"
    else
      _signal TERM "$pid" "$mode" || true
      for ((j = 0; j < t * 4; j++)); do
        _running "$pid" || break
        sleep 0.25
      done
      if _running "$pid"; then
        _signal KILL "$pid" "$mode" || true
        log "stopped: $name (pid $pid, SIGKILL after ${t}s)"
      else
        log "stopped: $name (pid $pid)"
      fi
    fi
    wait "$pid" 2>/dev/null || true
  done
  _STARTED_NAMES=() _STARTED_PIDS=() _STARTED_TIMEOUTS=() _STARTED_MODES=()
}

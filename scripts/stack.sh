#!/usr/bin/env bash
# Run the whole stack locally (README command #1).
#
#   scripts/stack.sh                 # release build
#   scripts/stack.sh --debug         # debug build of the services (faster to compile)
#   scripts/stack.sh --frontend-dev  # `next dev` (hot reload) instead of a production build
#
# Reuses MariaDB / Redis if they already run (else installs + starts them),
# starts secantusd-rs (MongoDB substitute, data kept in .local/mongo-data)
# unless MONGODB_URI is set, generates dev secrets into .local/ once, builds
# and starts the services, and stops everything it started on Ctrl-C.
#
# STACK_PREBUILT=1: with --debug, start the binaries already in target/debug (built by
# `cargo test`) instead of building.
# STACK_READY_FILE=path: written (the parts and their URLs) once every part answers its
# readiness check, removed on shutdown; scripts/test.sh waits for it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_TAG="stack"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

# ---------------------------------------------------------------------------
# Services: one line each.
#   name  port  kind  mysql-database  ready-path
# kind "rust": cargo package NAME, binary target/<profile>/NAME, listens on
#              ${NAME_UPPER}_ADDR (user-service -> USER_SERVICE_ADDR).
# kind "next": Next.js app in ./frontend.
# mysql-database "-" = none; otherwise created if missing and passed as
# DATABASE_URL=$MYSQL_BASE_URL/<db>.
SERVICES=(
  "user-service     5001 rust chat_users   /ready"
  "friends-service  5002 rust chat_friends /ready"
  "message-service  5003 rust -            /ready"
  "frontend         3000 next -            /signin"
)

PROFILE=release
FRONTEND_MODE=build
for arg in "$@"; do
  case "$arg" in
    --debug) PROFILE=debug ;;
    --frontend-dev) FRONTEND_MODE=dev ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) die "unknown argument: $arg (use --debug, --frontend-dev)" ;;
  esac
done

LOCAL="$ROOT/.local"
LOGS="$LOCAL/logs"
LIB_RUN_DIR="$LOCAL/run"
mkdir -p "$LOGS" "$LIB_RUN_DIR"

# ---------------------------------------------------------------------------
# Shutdown

_stopping=""
shutdown() {
  local rc=${1:-0}
  [[ -n "$_stopping" ]] && return 0
  _stopping=1
  trap - INT TERM
  log "stopping everything this script started ..."
  [[ -n "${STACK_READY_FILE:-}" ]] && rm -f "$STACK_READY_FILE"
  stop_started
  log "stack stopped"
  exit "$rc"
}
trap 'shutdown 0' INT TERM
trap 'rc=$?; [[ -n "$_stopping" ]] || { _stopping=1; [[ -n "${STACK_READY_FILE:-}" ]] && rm -f "$STACK_READY_FILE"; stop_started; }; exit $rc' EXIT

# ---------------------------------------------------------------------------
# .env (optional): never overrides variables that are already set.

load_dotenv() {
  local f=$1 line key val
  [[ -f "$f" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line#"${line%%[![:space:]]*}"}"          # trim leading space
    [[ -z "$line" || "$line" == \#* ]] && continue
    line="${line#export }"
    [[ "$line" == *=* ]] || continue
    key="${line%%=*}"
    key="${key%"${key##*[![:space:]]}"}"             # trim trailing space
    val="${line#*=}"
    [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    if [[ "$val" =~ ^\"(.*)\"$ || "$val" =~ ^\'(.*)\'$ ]]; then
      val="${BASH_REMATCH[1]}"
    fi
    if [[ -z "${!key+x}" ]]; then
      export "$key=$val"
    fi
  done <"$f"
  log ".env loaded (existing variables kept)"
}
load_dotenv "$ROOT/.env"

# ---------------------------------------------------------------------------
# Infrastructure

ensure_rust
ensure_mariadb
ensure_redis
ensure_mongo "$LOCAL/mongo-data"

# Dev secrets, generated once.
command -v openssl >/dev/null 2>&1 || ensure_apt_packages openssl
if [[ ! -s "$LOCAL/jwt-ed25519.pem" ]]; then
  (umask 077 && openssl genpkey -algorithm ed25519 -out "$LOCAL/jwt-ed25519.pem")
  log "secrets: generated .local/jwt-ed25519.pem"
fi
if [[ ! -s "$LOCAL/vapid-p256.pem" ]]; then
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$LOCAL/vapid-p256.pem")
  log "secrets: generated .local/vapid-p256.pem (web push)"
fi
if [[ ! -s "$LOCAL/service-token" ]]; then
  (umask 077 && openssl rand -hex 32 >"$LOCAL/service-token")
  log "secrets: generated .local/service-token"
fi
SERVICE_TOKEN="$(cat "$LOCAL/service-token")"

# ---------------------------------------------------------------------------
# Build

rust_pkgs=()
for entry in "${SERVICES[@]}"; do
  read -r name _port kind _db _ready <<<"$entry"
  [[ "$kind" == rust ]] && rust_pkgs+=(-p "$name")
done
if [[ ${#rust_pkgs[@]} -gt 0 ]]; then
  # STACK_PREBUILT=1 (scripts/test.sh, after `cargo test` built these binaries): use them
  # as they are. A second `cargo build` would resolve other features (no dev-dependencies)
  # and compile every dependency again, doubling target/ for the same code.
  prebuilt=""
  if [[ "${STACK_PREBUILT:-}" == 1 ]]; then
    prebuilt=1
    for entry in "${SERVICES[@]}"; do
      read -r name _port kind _db _ready <<<"$entry"
      [[ "$kind" == rust && ! -x "$ROOT/target/$PROFILE/$name" ]] && prebuilt=""
    done
  fi
  if [[ -n "$prebuilt" ]]; then
    log "build: using the binaries already in target/$PROFILE"
  else
    build_args=()
    [[ "$PROFILE" == release ]] && build_args+=(--release)
    log "build: cargo build ${build_args[*]} ${rust_pkgs[*]}"
    cargo build "${build_args[@]}" "${rust_pkgs[@]}"
  fi
fi

# ---------------------------------------------------------------------------
# Start

upper() { local s=${1^^}; printf '%s\n' "${s//-/_}"; }

# The URL of a part of the table (services call each other by these).
service_url() {
  local entry name port
  for entry in "${SERVICES[@]}"; do
    read -r name port _ <<<"$entry"
    [[ "$name" == "$1" ]] && { printf 'http://127.0.0.1:%s\n' "$port"; return 0; }
  done
  die "no part named $1"
}

# Variables every service gets.
COMMON_ENV=(
  "MONGODB_URI=$MONGODB_URI"
  "MONGODB_DATABASE=${MONGODB_DATABASE:-chat}"
  "REDIS_URL=$REDIS_URL"
  "JWT_PRIVATE_KEY_FILE=$LOCAL/jwt-ed25519.pem"
  "SERVICE_TOKEN=$SERVICE_TOKEN"
  "USER_SERVICE_URL=$(service_url user-service)"
  "FRIENDS_SERVICE_URL=$(service_url friends-service)"
  "CORS_ALLOWED_ORIGINS=${CORS_ALLOWED_ORIGINS:-http://localhost:3000,http://127.0.0.1:3000}"
  "RUST_LOG=${RUST_LOG:-info}"
)

STARTED_TABLE=()

start_service() {
  local name=$1 port=$2 kind=$3 db=$4 ready=$5 logf pid
  local -a env_vars=("${COMMON_ENV[@]}") cmd
  logf="$LOGS/$name.log"
  if port_open 127.0.0.1 "$port"; then
    die "$name: port $port is already in use (another stack running?)"
  fi
  if [[ "$db" != "-" ]]; then
    mysql_exec "CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" ||
      die "$name: could not create database $db"
    env_vars+=("DATABASE_URL=$MYSQL_BASE_URL/$db")
  fi
  case "$kind" in
    rust)
      env_vars+=("$(upper "$name")_ADDR=127.0.0.1:$port"
        "STORAGE_DIR=${STORAGE_DIR:-$LOCAL/files}")
      # message-service's search index, one per database (it is rebuilt from it when missing).
      # and its web push key.
      [[ "$name" == message-service ]] &&
        env_vars+=("SEARCH_INDEX_DIR=${SEARCH_INDEX_DIR:-$LOCAL/search/${MONGODB_DATABASE:-chat}}"
          "VAPID_PRIVATE_KEY_FILE=${VAPID_PRIVATE_KEY_FILE:-$LOCAL/vapid-p256.pem}")
      cmd=("$ROOT/target/$PROFILE/$name")
      [[ -x "${cmd[0]}" ]] || die "$name: ${cmd[0]} not built"
      ;;
    next)
      command -v npm >/dev/null 2>&1 || ensure_apt_packages nodejs npm
      env_vars+=("PORT=$port" "HOSTNAME=127.0.0.1")
      if [[ ! -d "$ROOT/frontend/node_modules" ]]; then
        log "$name: npm install"
        if [[ -f "$ROOT/frontend/package-lock.json" ]]; then
          (cd "$ROOT/frontend" && npm ci --no-audit --no-fund) >>"$logf" 2>&1
        else
          (cd "$ROOT/frontend" && npm install --no-audit --no-fund) >>"$logf" 2>&1
        fi
      fi
      if [[ "$FRONTEND_MODE" == build ]]; then
        log "$name: next build"
        (cd "$ROOT/frontend" && env "${env_vars[@]}" npm run build) >>"$logf" 2>&1 ||
          { tail -n 30 "$logf" >&2; die "$name: build failed"; }
        # node directly (not npm/npx), so stopping the process group stops the server.
        cmd=(bash -c "cd frontend && exec node node_modules/next/dist/bin/next start --hostname 127.0.0.1 --port $port")
      else
        cmd=(bash -c "cd frontend && exec node node_modules/next/dist/bin/next dev --hostname 127.0.0.1 --port $port")
      fi
      ;;
    *) die "$name: unknown kind $kind" ;;
  esac
  log "$name: starting on 127.0.0.1:$port (log .local/logs/$name.log)"
  # Own process group (setsid), so that stopping also reaches its children.
  setsid env "${env_vars[@]}" "${cmd[@]}" >>"$logf" 2>&1 </dev/null &
  pid=$!
  register_started "$name (127.0.0.1:$port)" "$pid" 10 group
  if ! wait_http "http://127.0.0.1:$port$ready" 60 "$pid"; then
    log "$name: not ready; last 30 lines of $logf:"
    tail -n 30 "$logf" >&2 || true
    shutdown 1
  fi
  SERVICE_PIDS+=("$pid")
  SERVICE_NAMES+=("$name")
  if [[ "$kind" == rust ]]; then
    STARTED_TABLE+=("$name|http://127.0.0.1:$port  (docs: /docs, spec: /openapi.json)")
  else
    STARTED_TABLE+=("$name|http://127.0.0.1:$port")
  fi
}

SERVICE_PIDS=()
SERVICE_NAMES=()
for entry in "${SERVICES[@]}"; do
  read -r name port kind db ready <<<"$entry"
  : >"$LOGS/$name.log"
  start_service "$name" "$port" "$kind" "$db" "$ready"
done

# ---------------------------------------------------------------------------
# Summary

{
  echo
  echo "Stack is up ($PROFILE build). Ctrl-C stops everything this script started."
  printf '  %-16s %s\n' "MariaDB" "$MYSQL_BASE_URL"
  printf '  %-16s %s\n' "MongoDB" "$MONGODB_URI"
  printf '  %-16s %s\n' "Redis" "$REDIS_URL"
  for row in "${STARTED_TABLE[@]}"; do
    printf '  %-16s %s\n' "${row%%|*}" "${row#*|}"
  done
  printf '  %-16s %s\n' "logs" "$LOGS/"
  echo
}
if [[ -n "${STACK_READY_FILE:-}" ]]; then
  printf '%s\n' "${STARTED_TABLE[@]}" >"$STACK_READY_FILE.tmp"
  mv "$STACK_READY_FILE.tmp" "$STACK_READY_FILE"
fi

# ---------------------------------------------------------------------------
# Wait: until Ctrl-C / SIGTERM, or until a service dies.

while true; do
  for i in "${!SERVICE_PIDS[@]}"; do
    if ! _running "${SERVICE_PIDS[i]}"; then
      log "${SERVICE_NAMES[i]} exited unexpectedly; last 30 lines of its log:"
      tail -n 30 "$LOGS/${SERVICE_NAMES[i]}.log" >&2 || true
      shutdown 1
    fi
  done
  sleep 2 &
  wait $! || true
done

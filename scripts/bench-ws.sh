#!/usr/bin/env bash
# Measures the WebSocket gateway on a release build: send-to-receive latency through two
# message-service instances, and memory per idle socket.
#
#   scripts/bench-ws.sh                      # defaults below
#   USERS=40 RATE=400 DURATION=30 SOCKETS=15000 scripts/bench-ws.sh
#
# Starts its own user-, friends- and two message-services (release) on scratch schemas, a Mongo
# database and a Redis prefix, with the register rate limit lifted, then runs chat-bench.
# Results (JSON) go to target/bench/; docs/benchmarks.md summarises them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_TAG="bench"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

USERS=${USERS:-20}
GROUP_SIZE=${GROUP_SIZE:-5}
RATE=${RATE:-200}
DURATION=${DURATION:-20}
SOCKETS=${SOCKETS:-10000}
SOCKET_USERS=${SOCKET_USERS:-100}
BASE_PORT=${BENCH_PORT:-5911}
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/chat-bench.XXXXXX")"
LIB_RUN_DIR="$WORK_DIR/run"
OUT="$ROOT/target/bench"
mkdir -p "$OUT"
trap 'stop_started; rm -rf "$WORK_DIR"' EXIT

ensure_rust
ensure_apt_packages curl openssl
ensure_mariadb
ensure_redis
ensure_mongo "$WORK_DIR/mongo-data"
# Each socket is a file descriptor on both sides.
ulimit -n "$(ulimit -Hn)" || true

cargo build --release -p user-service -p friends-service -p message-service -p chat-bench
openssl genpkey -algorithm ed25519 -out "$WORK_DIR/jwt.pem" 2>/dev/null

RUN="bench_$$"
COMMON=(MONGODB_URI="$MONGODB_URI" MONGODB_DATABASE="$RUN" REDIS_URL="$REDIS_URL"
  REDIS_KEY_PREFIX="$RUN:" SERVICE_TOKEN="$(openssl rand -hex 32)" RUST_LOG=warn)
USERS_URL="http://127.0.0.1:$BASE_PORT"
FRIENDS_URL="http://127.0.0.1:$((BASE_PORT + 1))"
M1="http://127.0.0.1:$((BASE_PORT + 2))"
M2="http://127.0.0.1:$((BASE_PORT + 3))"

start() { # name url env...
  local name=$1 url=$2
  shift 2
  env "${COMMON[@]}" "$@" "target/release/$name" >"$WORK_DIR/$name-${url##*:}.log" 2>&1 &
  register_started "$name ${url##*:}" $! 10
  wait_http "$url/ready" 60 || { tail -30 "$WORK_DIR/$name-${url##*:}.log"; exit 1; }
}
start user-service "$USERS_URL" USER_SERVICE_ADDR="${USERS_URL#http://}" \
  DATABASE_URL="$MYSQL_BASE_URL/${RUN}_users" JWT_PRIVATE_KEY_FILE="$WORK_DIR/jwt.pem" \
  RATE_LIMIT_REGISTER_IP=100000000/60 RATE_LIMIT_LOGIN_IP=100000000/60
start friends-service "$FRIENDS_URL" FRIENDS_SERVICE_ADDR="${FRIENDS_URL#http://}" \
  DATABASE_URL="$MYSQL_BASE_URL/${RUN}_friends" USER_SERVICE_URL="$USERS_URL"
for url in "$M1" "$M2"; do
  start message-service "$url" MESSAGE_SERVICE_ADDR="${url#http://}" \
    USER_SERVICE_URL="$USERS_URL" FRIENDS_SERVICE_URL="$FRIENDS_URL"
done
M1_PID="$(ss -ltnp "sport = :${M1##*:}" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)"

BENCH=(target/release/chat-bench --users-url "$USERS_URL" --friends-url "$FRIENDS_URL")
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB; $(rustc --version); commit $(git rev-parse --short HEAD)"
echo "== fan-out: $USERS users, groups of $GROUP_SIZE, $RATE msg/s for ${DURATION}s over two instances"
"${BENCH[@]}" --messages-url "$M1" --messages-url "$M2" fanout \
  --users "$USERS" --group-size "$GROUP_SIZE" --rate "$RATE" --duration "$DURATION" | tee "$OUT/fanout.json"
echo "== idle sockets: $SOCKETS on one instance (pid $M1_PID)"
"${BENCH[@]}" --messages-url "$M1" connections --target "$SOCKETS" --users "$SOCKET_USERS" \
  --server-pid "$M1_PID" | tee "$OUT/connections.json"

for db in "${RUN}_users" "${RUN}_friends"; do
  mysql_exec "DROP DATABASE IF EXISTS \`$db\`" >/dev/null 2>&1 || true
done

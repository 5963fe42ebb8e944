#!/usr/bin/env bash
# Measures user-service's login and authenticated-read latency/throughput on a release build.
#
#   scripts/bench-auth.sh                    # defaults: 15 s per run, 1/4/16 connections
#   DURATION=30s CONNECTIONS="4 32" scripts/bench-auth.sh
#
# Starts its own user-service (release) on a scratch schema, Mongo database and Redis prefix,
# with rate limits lifted so the argon2 cost is what gets measured, then drives it with wrk.
# The numbers it prints are summarised in docs/benchmarks.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_TAG="bench"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-"1 4 16"}
PORT=${BENCH_PORT:-5901}
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/chat-bench.XXXXXX")"
LIB_RUN_DIR="$WORK_DIR/run"
trap 'stop_started; rm -rf "$WORK_DIR"' EXIT

ensure_rust
ensure_apt_packages wrk curl openssl
ensure_mariadb
ensure_redis
ensure_mongo "$WORK_DIR/mongo-data"

cargo build --release -p user-service
openssl genpkey -algorithm ed25519 -out "$WORK_DIR/jwt.pem" 2>/dev/null

DB="bench_users_$$"
env USER_SERVICE_ADDR="127.0.0.1:$PORT" \
  DATABASE_URL="$MYSQL_BASE_URL/$DB" MONGODB_URI="$MONGODB_URI" MONGODB_DATABASE="$DB" \
  REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX="$DB:" JWT_PRIVATE_KEY_FILE="$WORK_DIR/jwt.pem" \
  SERVICE_TOKEN="$(openssl rand -hex 32)" RUST_LOG=warn \
  RATE_LIMIT_LOGIN_IP=100000000/60 RATE_LIMIT_LOGIN_ACCOUNT=100000000/60 \
  target/release/user-service >"$WORK_DIR/user-service.log" 2>&1 &
register_started "user-service (bench)" $! 10
wait_http "http://127.0.0.1:$PORT/ready" 60 || { tail -30 "$WORK_DIR/user-service.log"; exit 1; }

BASE="http://127.0.0.1:$PORT"
curl -sf "$BASE/auth/register" -H 'content-type: application/json' \
  -d '{"username":"bench","email":"bench@example.com","password":"benchmark password","token_delivery":"body"}' \
  >"$WORK_DIR/register.json"
ACCESS="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tokens"]["access_token"])' "$WORK_DIR/register.json")"

cat >"$WORK_DIR/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"login":"bench","password":"benchmark password","token_delivery":"body"}'
LUA

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB; $(rustc --version); wrk $DURATION runs"
for c in $CONNECTIONS; do
  echo; echo "== POST /auth/login (argon2id m=19MiB t=2 p=1), $c connection(s)"
  wrk -t1 -c"$c" -d"$DURATION" --latency -s "$WORK_DIR/login.lua" "$BASE/auth/login" | grep -E 'Latency|50%|90%|99%|Requests/sec|Non-2xx'
done
for c in $CONNECTIONS; do
  echo; echo "== GET /users/me (JWT verify + Redis revocation check + MySQL read), $c connection(s)"
  wrk -t1 -c"$c" -d"$DURATION" --latency -H "Authorization: Bearer $ACCESS" "$BASE/users/me" | grep -E 'Latency|50%|90%|99%|Requests/sec|Non-2xx'
done
mariadb_drop="DROP DATABASE IF EXISTS \`$DB\`"
mysql_exec "$mariadb_drop" >/dev/null 2>&1 || true

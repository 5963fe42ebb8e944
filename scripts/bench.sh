#!/usr/bin/env bash
# The benchmark harness on a release build: every chat-bench scenario against a stack of its
# own (user-, friends- and two message-services), then an SVG chart of the results.
#
#   scripts/bench.sh                         # all scenarios, defaults below (about 5 minutes)
#   SCENARIOS="fanout resume" RATE=400 scripts/bench.sh
#
# Knobs (environment): USERS GROUP_SIZE RATE DURATION (fan-out), SOCKETS SOCKET_USERS
# (connections, split over the two instances), HTTP_CONCURRENCY HTTP_DURATION (http),
# FLOOD FLOOD_READERS (flood), RESUME_CLIENTS RESUME_RATE (resume), SEARCH_MESSAGES (search:
# the embedded index alone, built from that many messages, then queried), PUSH_MEMBERS
# PUSH_MESSAGES PUSH_RATE PUSH_SUBSCRIBERS (push: a group all away, each member's browser
# served here; PUSH_SUBSCRIBERS=0 sends the same messages with no push, for comparison),
# UPLOAD_CLIENTS UPLOAD_MB (uploads: that many clients each sending three files of that size
# at once, then one four times over the limit), SEND_CLIENTS SEND_DURATION (sends: that many
# members sending into one group, then each into a direct conversation, then the Mongo server
# alone running the same transactions), CEILING_USERS CEILING_SHAPES CEILING_START (ceiling:
# that many members on sockets, ramped per shape from that many deliveries/s up by 1.5× a step
# until p99 passes 50 ms or a delivery is lost), SCALE_CONVERSATIONS SCALE_MESSAGES SCALE_HISTORY
# (scale: a reader with that many conversations of that many messages, listed 1, 20 and 50 per
# page; then conversations of each SCALE_HISTORY size, messages written straight into MongoDB),
# INSTANCE_COUNTS INSTANCE_USERS INSTANCE_GROUP INSTANCE_RATE INSTANCE_DURATION (instances: two
# more message-service instances for this scenario, then 1, 2 and 4 of them each holding that
# many members in groups of that size sending that many messages/s; CPU per delivered frame).
# SCENARIOS=hold keeps the stack up for runs by hand (BENCH_HOLD_FILE: where its addresses go).
# MESSAGE_ENV: extra VAR=value words for both message-service instances (an A/B run, e.g.
# MESSAGE_ENV="SEND_BATCH_MAX=1 DIRECTORY_CACHE_TTL_SECS=0" for sends as they were before issue
# 18). Results: docs/bench/<scenario>.json and .svg (BENCH_OUT elsewhere).
# Scratch schemas, Mongo database and Redis prefix; register and login rate limits lifted so
# the costs themselves are measured. docs/benchmarks.md summarises the results.
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
SOCKETS=${SOCKETS:-20000}
SOCKET_USERS=${SOCKET_USERS:-100}
HTTP_CONCURRENCY=${HTTP_CONCURRENCY:-1,4,16}
HTTP_DURATION=${HTTP_DURATION:-8}
FLOOD=${FLOOD:-32}
FLOOD_READERS=${FLOOD_READERS:-8}
RESUME_CLIENTS=${RESUME_CLIENTS:-10}
RESUME_RATE=${RESUME_RATE:-100}
SCENARIOS=${SCENARIOS:-"fanout connections http flood resume search push uploads sends ceiling scale instances"}
SEND_CLIENTS=${SEND_CLIENTS:-16}
CEILING_USERS=${CEILING_USERS:-100}
SCALE_CONVERSATIONS=${SCALE_CONVERSATIONS:-50}
SCALE_MESSAGES=${SCALE_MESSAGES:-10000}
SCALE_HISTORY=${SCALE_HISTORY:-1000,100000,1000000}
CEILING_SHAPES=${CEILING_SHAPES:-direct,10,50,100}
CEILING_START=${CEILING_START:-1000}
SEND_DURATION=${SEND_DURATION:-10}
INSTANCE_COUNTS=${INSTANCE_COUNTS:-1,2,4}
INSTANCE_USERS=${INSTANCE_USERS:-20}
INSTANCE_GROUP=${INSTANCE_GROUP:-10}
INSTANCE_RATE=${INSTANCE_RATE:-50}
INSTANCE_DURATION=${INSTANCE_DURATION:-10}
UPLOAD_CLIENTS=${UPLOAD_CLIENTS:-4}
UPLOAD_MB=${UPLOAD_MB:-25}
PUSH_MEMBERS=${PUSH_MEMBERS:-50}
PUSH_MESSAGES=${PUSH_MESSAGES:-400}
PUSH_RATE=${PUSH_RATE:-40}
PUSH_SUBSCRIBERS=${PUSH_SUBSCRIBERS:-}
SEARCH_MESSAGES=${SEARCH_MESSAGES:-1000000}
BASE_PORT=${BENCH_PORT:-5911}
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/chat-bench.XXXXXX")"
LIB_RUN_DIR="$WORK_DIR/run"
OUT="${BENCH_OUT:-$ROOT/docs/bench}"
read -r -a MESSAGE_EXTRA <<<"${MESSAGE_ENV:-}"
mkdir -p "$OUT"
RUN="bench_$$"
# On any exit (an interrupted `hold` too): the services stop, then the run's schemas and
# Redis keys go (its Mongo database lives in WORK_DIR unless MONGODB_URI was given).
cleanup() {
  stop_started
  for db in "${RUN}_users" "${RUN}_friends"; do
    mysql_exec "DROP DATABASE IF EXISTS \`$db\`" >/dev/null 2>&1 || true
  done
  if [[ -n "${REDIS_URL:-}" ]] && command -v redis-cli >/dev/null 2>&1; then
    redis-cli -u "$REDIS_URL" --scan --pattern "$RUN:*" 2>/dev/null |
      xargs -r -n 500 redis-cli -u "$REDIS_URL" unlink >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT

ensure_rust
ensure_apt_packages curl openssl
# OpenSSL's headers: chat-bench decrypts pushes with the `ece` crate on it.
pkg-config --exists openssl 2>/dev/null || ensure_apt_packages libssl-dev pkg-config
ensure_mariadb
ensure_redis
ensure_mongo "$WORK_DIR/mongo-data"
# Each socket is a file descriptor on both sides.
ulimit -n "$(ulimit -Hn)" || true

cargo build --release -p user-service -p friends-service -p message-service -p chat-bench
openssl genpkey -algorithm ed25519 -out "$WORK_DIR/jwt.pem" 2>/dev/null
# Web push is on, as in production; the push scenario's endpoint is this process's own.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK_DIR/vapid.pem" 2>/dev/null
PUSH_PORT=$((BASE_PORT + 10))

COMMON=(MONGODB_URI="$MONGODB_URI" MONGODB_DATABASE="$RUN" REDIS_URL="$REDIS_URL"
  REDIS_KEY_PREFIX="$RUN:" SERVICE_TOKEN="$(openssl rand -hex 32)" RUST_LOG=warn
  STORAGE_DIR="$WORK_DIR/files")
USERS_URL="http://127.0.0.1:$BASE_PORT"
FRIENDS_URL="http://127.0.0.1:$((BASE_PORT + 1))"
M1="http://127.0.0.1:$((BASE_PORT + 2))"
M2="http://127.0.0.1:$((BASE_PORT + 3))"

declare -A PIDS=() # url -> the service's pid (`env` execs it)
start() { # name url env...
  local name=$1 url=$2
  shift 2
  env "${COMMON[@]}" "$@" "target/release/$name" >"$WORK_DIR/$name-${url##*:}.log" 2>&1 &
  PIDS[$url]=$!
  register_started "$name ${url##*:}" "${PIDS[$url]}" 10
  wait_http "$url/ready" 60 "${PIDS[$url]}" || { tail -30 "$WORK_DIR/$name-${url##*:}.log"; exit 1; }
}
start user-service "$USERS_URL" USER_SERVICE_ADDR="${USERS_URL#http://}" \
  DATABASE_URL="$MYSQL_BASE_URL/${RUN}_users" JWT_PRIVATE_KEY_FILE="$WORK_DIR/jwt.pem" \
  RATE_LIMIT_REGISTER_IP=100000000/60 RATE_LIMIT_LOGIN_IP=100000000/60
start friends-service "$FRIENDS_URL" FRIENDS_SERVICE_ADDR="${FRIENDS_URL#http://}" \
  DATABASE_URL="$MYSQL_BASE_URL/${RUN}_friends" USER_SERVICE_URL="$USERS_URL"
# The per-user limits are lifted: the benchmark measures capacity, with a few users each
# standing for many people (thousands of sockets, hundreds of messages a second).
start_messages() { # url
  start message-service "$1" MESSAGE_SERVICE_ADDR="${1#http://}" \
    USER_SERVICE_URL="$USERS_URL" FRIENDS_SERVICE_URL="$FRIENDS_URL" \
    MESSAGE_RATE_LIMIT=100000000/60 WS_MAX_SOCKETS_PER_USER=100000 \
    VAPID_PRIVATE_KEY_FILE="$WORK_DIR/vapid.pem" PUSH_UNSAFE_ALLOW="127.0.0.1:$PUSH_PORT" \
    "${MESSAGE_EXTRA[@]}"
}
# An instance keeps its search index in memory here, so one started late rebuilds it from
# MongoDB first (every message the earlier scenarios stored): waited for, so that a run
# measures its traffic, not that rebuild.
wait_search_rebuilt() { # url
  local i metrics
  for ((i = 0; i < 1200; i++)); do
    metrics="$(curl -s --max-time 2 "$1/metrics" || true)"
    grep -q '^search_index_rebuilds_total' <<<"$metrics" && return 0
    sleep 0.5
  done
  die "$1: its search index was not rebuilt within 10 minutes"
}
for url in "$M1" "$M2"; do start_messages "$url"; done
M1_PID="${PIDS[$M1]}"
M2_PID="${PIDS[$M2]}"

BENCH=(target/release/chat-bench --users-url "$USERS_URL" --friends-url "$FRIENDS_URL")
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB; $(rustc --version); commit $(git rev-parse --short HEAD)"
for scenario in $SCENARIOS; do
  case "$scenario" in
    fanout)
      echo "== 1. fan-out: $USERS users, groups of $GROUP_SIZE, $RATE msg/s for ${DURATION}s over two instances"
      "${BENCH[@]}" --messages-url "$M1" --messages-url "$M2" --out "$OUT/fanout.json" fanout \
        --users "$USERS" --group-size "$GROUP_SIZE" --rate "$RATE" --duration "$DURATION"
      ;;
    connections)
      # One process may hold 20,000 descriptors here: half the sockets per instance, each
      # opened by a load-generator process of its own.
      half=$((SOCKETS / 2))
      echo "== 2. idle sockets: $SOCKETS ($half per instance, pids $M1_PID and $M2_PID)"
      "${BENCH[@]}" --messages-url "$M1" --out "$OUT/connections-1.json" connections \
        --target "$half" --users "$SOCKET_USERS" --server-pid "$M1_PID" &
      first=$!
      "${BENCH[@]}" --messages-url "$M2" --out "$OUT/connections-2.json" connections \
        --target "$half" --users "$SOCKET_USERS" --server-pid "$M2_PID" --source-addresses 8
      wait "$first"
      ;;
    http)
      echo "== 3. HTTP reads and writes at concurrency $HTTP_CONCURRENCY, ${HTTP_DURATION}s each"
      "${BENCH[@]}" --messages-url "$M1" --messages-url "$M2" --out "$OUT/http.json" http \
        --concurrency "$HTTP_CONCURRENCY" --duration "$HTTP_DURATION"
      ;;
    flood)
      echo "== 4. login flood ($FLOOD loops) against reads ($FLOOD_READERS readers)"
      "${BENCH[@]}" --messages-url "$M1" --messages-url "$M2" --out "$OUT/flood.json" flood \
        --flood "$FLOOD" --concurrency "$FLOOD_READERS" --duration "$HTTP_DURATION"
      ;;
    resume)
      echo "== 5. resume: $RESUME_CLIENTS clients dropping and resuming at $RESUME_RATE msg/s"
      "${BENCH[@]}" --messages-url "$M1" --messages-url "$M2" --out "$OUT/resume.json" resume \
        --clients "$RESUME_CLIENTS" --rate "$RESUME_RATE"
      ;;
    search)
      echo "== 6. search: the embedded index over $SEARCH_MESSAGES messages (no servers)"
      cargo run --release -q -p message-service --example search_bench -- \
        --messages "$SEARCH_MESSAGES" --out "$OUT/search.json"
      ;;
    push)
      echo "== 7. web push: a group of $PUSH_MEMBERS all away, $PUSH_MESSAGES messages at $PUSH_RATE/s over two instances"
      "${BENCH[@]}" --messages-url "$M1" --messages-url "$M2" --out "$OUT/push.json" push \
        --members "$PUSH_MEMBERS" --messages "$PUSH_MESSAGES" --rate "$PUSH_RATE" --port "$PUSH_PORT" \
        ${PUSH_SUBSCRIBERS:+--subscribers "$PUSH_SUBSCRIBERS"}
      ;;
    uploads)
      "${BENCH[@]}" --messages-url "$M1" --out "$OUT/uploads.json" uploads \
        --clients "$UPLOAD_CLIENTS" --size-mb "$UPLOAD_MB" --server-pid "$M1_PID"
      ;;
    sends)
      echo "== 9. sends: $SEND_CLIENTS clients into one group, then each into a direct conversation, then the store alone (${SEND_DURATION}s each)"
      "${BENCH[@]}" --messages-url "$M1" --messages-url "$M2" --out "$OUT/sends.json" sends \
        --clients "$SEND_CLIENTS" --duration "$SEND_DURATION" --mongodb-uri "$MONGODB_URI"
      ;;
    ceiling)
      echo "== 10. fan-out ceiling: $CEILING_USERS members over two instances, shapes $CEILING_SHAPES"
      "${BENCH[@]}" --messages-url "$M1" --messages-url "$M2" --out "$OUT/ceiling.json" ceiling \
        --users "$CEILING_USERS" --shapes "$CEILING_SHAPES" --start "$CEILING_START"
      ;;
    scale)
      echo "== 11. scale: $SCALE_CONVERSATIONS conversations of $SCALE_MESSAGES messages listed by page; histories of $SCALE_HISTORY"
      "${BENCH[@]}" --messages-url "$M1" --out "$OUT/scale.json" scale \
        --mongodb-uri "$MONGODB_URI" --mongodb-database "$RUN" \
        --conversations "$SCALE_CONVERSATIONS" --page-messages "$SCALE_MESSAGES" --history-sizes "$SCALE_HISTORY"
      ;;
    instances)
      # Two more instances (ports after the push endpoint's), stopped again after this run:
      # the other scenarios measure two.
      M3="http://127.0.0.1:$((BASE_PORT + 11))"
      M4="http://127.0.0.1:$((BASE_PORT + 12))"
      start_messages "$M3"
      start_messages "$M4"
      wait_search_rebuilt "$M3"
      wait_search_rebuilt "$M4"
      echo "== 12. instances: $INSTANCE_COUNTS instances, each $INSTANCE_USERS members in groups of $INSTANCE_GROUP sending $INSTANCE_RATE msg/s"
      "${BENCH[@]}" --messages-url "$M1" --messages-url "$M2" --messages-url "$M3" --messages-url "$M4" \
        --out "$OUT/instances.json" instances --counts "$INSTANCE_COUNTS" \
        --server-pids "$M1_PID,$M2_PID,${PIDS[$M3]},${PIDS[$M4]}" --users "$INSTANCE_USERS" \
        --group-size "$INSTANCE_GROUP" --rate "$INSTANCE_RATE" --duration "$INSTANCE_DURATION"
      kill "${PIDS[$M3]}" "${PIDS[$M4]}" 2>/dev/null || true
      wait "${PIDS[$M3]}" "${PIDS[$M4]}" 2>/dev/null || true
      ;;
    hold)
      # Not a measurement: keeps this stack up for runs by hand (a profiler, one scenario
      # with other knobs) until interrupted; BENCH_HOLD_FILE gets the addresses and pids.
      {
        echo "USERS_URL=$USERS_URL FRIENDS_URL=$FRIENDS_URL M1=$M1 M2=$M2"
        echo "M1_PID=$M1_PID M2_PID=$M2_PID MONGODB_URI='$MONGODB_URI' MONGODB_DATABASE=$RUN"
      } | tee "${BENCH_HOLD_FILE:-/dev/null}"
      echo "== holding the stack; interrupt to stop it"
      while true; do sleep 3600; done
      ;;
    *) die "unknown scenario $scenario" ;;
  esac
done
"${BENCH[@]}" chart --dir "$OUT" --svg "$OUT/summary.svg"


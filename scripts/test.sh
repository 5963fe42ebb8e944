#!/usr/bin/env bash
# Run every test of the repository (README command #2).
#
#   scripts/test.sh                      # everything
#   CARGO_TEST_ARGS="-p user-service" scripts/test.sh
#
# Reuses MariaDB / Redis if they already run (else installs + starts them),
# starts a throwaway secantusd-rs (MongoDB substitute) unless MONGODB_URI is
# set, runs the suites, stops whatever it started and prints, as the very
# last line, "N passed, N failed". Exit status is non-zero if anything failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_TAG="test"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

TOTAL_PASSED=0
TOTAL_FAILED=0
SUITES_FAILED=()

# ---------------------------------------------------------------------------
# Result parsers: each reads a log file and prints "PASSED FAILED".

# cargo/libtest: "test result: ok. 12 passed; 0 failed; 0 ignored; ..."
#                "test result: FAILED. 3 passed; 1 failed; ..."
parse_cargo_results() {
  awk '
    { gsub(/\033\[[0-9;]*[A-Za-z]/, "") }
    /test result: (ok|FAILED)\./ {
      if (match($0, /[0-9]+ passed/)) p += substr($0, RSTART, RLENGTH) + 0
      if (match($0, /[0-9]+ failed/)) f += substr($0, RSTART, RLENGTH) + 0
    }
    END { printf "%d %d\n", p, f }
  ' "$1"
}

# Playwright: its JSON report (frontend/test-results/results.json) has the counts.
parse_playwright_results() {
  local report="$ROOT/frontend/test-results/results.json"
  if [[ ! -f "$report" ]]; then
    echo "0 0"
    return 0
  fi
  node -e '
    const stats = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).stats;
    console.log(`${stats.expected + stats.flaky} ${stats.unexpected}`);
  ' "$report"
}

# vitest (frontend unit tests): its JSON report (frontend/test-results/unit.json) has the counts.
parse_vitest_results() {
  local report="$ROOT/frontend/test-results/unit.json"
  if [[ ! -f "$report" ]]; then
    echo "0 0"
    return 0
  fi
  node -e '
    const report = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${report.numPassedTests} ${report.numFailedTests}`);
  ' "$report" 2>/dev/null || echo "0 0"
}

# ---------------------------------------------------------------------------
# run_suite NAME PARSER CMD...
#   Runs CMD (output shown and saved to $LOG_DIR/NAME.log), parses the counts
#   with PARSER, and adds them to TOTAL_PASSED / TOTAL_FAILED. A command that
#   fails without any parsed failing test (compile error, crash, missing
#   tool) counts as one failed test, so it can never look green.
run_suite() {
  local name=$1 parser=$2 logf rc passed failed
  shift 2
  logf="$LOG_DIR/$name.log"
  log "suite $name: $*"
  set +e
  "$@" 2>&1 | tee "$logf"
  rc=${PIPESTATUS[0]}
  set -e
  read -r passed failed < <("$parser" "$logf")
  if [[ $rc -ne 0 && $failed -eq 0 ]]; then
    log "suite $name: command exited $rc with no failing test reported; counting 1 failure"
    failed=1
  fi
  if [[ $rc -ne 0 || $failed -gt 0 ]]; then
    SUITES_FAILED+=("$name")
  fi
  log "suite $name: $passed passed, $failed failed (exit $rc, log $logf)"
  TOTAL_PASSED=$((TOTAL_PASSED + passed))
  TOTAL_FAILED=$((TOTAL_FAILED + failed))
}

# Allow `source scripts/test.sh --parsers-only` (used to test the parsers).
if [[ "${1:-}" == "--parsers-only" ]]; then
  # shellcheck disable=SC2317  # reached only when executed, not sourced
  return 0 2>/dev/null || exit 0
fi

# ---------------------------------------------------------------------------
# Environment

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/chat-test.XXXXXX")"
LIB_RUN_DIR="$WORK_DIR/run"
LOG_DIR="${TEST_LOG_DIR:-$ROOT/target/test-logs}"   # kept after the run
mkdir -p "$LOG_DIR"
# A full run needs a few GB (target/, node_modules, the test databases); say so up front.
log "disk: $(df -h --output=avail "$ROOT" 2>/dev/null | tail -n 1 | tr -d ' ') free where the checkout is"

_cleaned=""
cleanup() {
  [[ -n "$_cleaned" ]] && return 0
  _cleaned=1
  stop_started
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_rust
# OpenSSL's headers: the push tests and the benchmark decrypt pushes with the `ece` crate on it.
pkg-config --exists openssl 2>/dev/null || ensure_apt_packages libssl-dev pkg-config
# docker-compose validates the compose file (crates/repo-checks/tests/deploy.rs).
command -v docker-compose >/dev/null 2>&1 || ensure_apt_packages docker-compose
ensure_mariadb
ensure_redis
ensure_mongo "$WORK_DIR/mongo-data"
ensure_schemathesis
ensure_s3s_fs

# The OpenID provider the sign-in tests run (oidc-provider on Node; crates/chat-testkit).
OIDC_DIR="$ROOT/crates/chat-testkit/oidc-provider"
command -v npm >/dev/null 2>&1 || ensure_apt_packages nodejs npm
log "oidc-provider: npm ci"
(cd "$OIDC_DIR" && npm ci --no-audit --no-fund) >"$LOG_DIR/npm-ci-oidc.log" 2>&1 ||
  { tail -n 20 "$LOG_DIR/npm-ci-oidc.log" >&2; die "npm ci in $OIDC_DIR failed"; }

export DATABASE_URL="$MYSQL_BASE_URL"   # sqlx::test creates one DB per test
export TEST_MYSQL_URL="$MYSQL_BASE_URL"
export MONGODB_URI REDIS_URL
log "DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL MONGODB_URI=$MONGODB_URI"

# ---------------------------------------------------------------------------
# The browser suite: starts the stack (scripts/stack.sh writes a ready file once every part
# answers its readiness check), runs Playwright against it.

run_browser_tests() {
  local ready="$WORK_DIR/stack.ready" stack_pid port preview_port oidc_port rogue_port oidc_pid
  [[ -x /usr/bin/chromium ]] || ensure_apt_packages chromium
  for port in 5001 5002 5003 3000; do
    port_open 127.0.0.1 "$port" && die "port $port is busy: stop the running stack before scripts/test.sh"
  done
  # The page the link-preview test serves (message-service may fetch it: tests only).
  preview_port="$(free_port 5099)" || die "no free port for the link-preview page"
  # "Google" for the sign-in test: the local OpenID provider, whose client chat-test-5001 sends
  # people back to this stack's user-service (the page's host, 127.0.0.1, as Playwright uses).
  oidc_port="$(free_port 5095)" || die "no free port for the OpenID provider"
  rogue_port="$(free_port 5096)" || die "no free port for the OpenID provider"
  (cd "$OIDC_DIR" && exec setsid node server.mjs "$oidc_port" "$rogue_port") >"$LOG_DIR/oidc-provider.log" 2>&1 &
  oidc_pid=$!
  register_started "oidc-provider (127.0.0.1:$oidc_port)" "$oidc_pid" 5
  wait_port 127.0.0.1 "$oidc_port" 20 "$oidc_pid" || die "the OpenID provider did not start (log $LOG_DIR/oidc-provider.log)"
  # Sign-ups from one address would hit the production limit (10 an hour), and tests that
  # set the scene send messages faster than a person.
  # The services are the binaries the Rust suite built (STACK_PREBUILT): the same code,
  # without compiling every dependency a second time.
  RATE_LIMIT_REGISTER_IP=1000/60 MESSAGE_RATE_LIMIT=1000/10 STACK_READY_FILE="$ready" \
    STACK_PREBUILT=1 \
    LINK_PREVIEW_UNSAFE_ALLOW="127.0.0.1:$preview_port" \
    GOOGLE_CLIENT_ID=chat-test-5001 GOOGLE_CLIENT_SECRET=test-client-secret \
    GOOGLE_ISSUER_URL="http://127.0.0.1:$oidc_port" \
    USER_SERVICE_PUBLIC_URL=http://127.0.0.1:5001 WEB_APP_URL=http://127.0.0.1:3000 \
    MESSAGE_SERVICE_PUBLIC_URL=http://127.0.0.1:5003 \
    setsid bash scripts/stack.sh --debug >"$LOG_DIR/stack.log" 2>&1 &
  stack_pid=$!
  register_started "stack (browser tests)" "$stack_pid" 60
  for _ in $(seq 1 600); do
    [[ -f "$ready" ]] && break
    _running "$stack_pid" || break
    sleep 1
  done
  if [[ -f "$ready" ]]; then
    run_suite browser parse_playwright_results \
      env LINK_PREVIEW_FIXTURE_PORT="$preview_port" \
      bash -c 'cd frontend && FRONTEND_URL=http://127.0.0.1:3000 npx playwright test'
  else
    tail -n 40 "$LOG_DIR/stack.log" >&2
    log "browser: the stack did not come up (log $LOG_DIR/stack.log)"
    SUITES_FAILED+=(browser)
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
}

# ---------------------------------------------------------------------------
# Suites. Each run_suite call adds to the same two counters.

# 1. Rust: every crate, every target (lib/bin unit tests, tests/, examples,
#    benches). Note: cargo skips doctests with --all-targets.
read -r -a _cargo_extra <<<"${CARGO_TEST_ARGS:-}"
run_suite cargo parse_cargo_results \
  cargo test --workspace --all-targets --no-fail-fast "${_cargo_extra[@]}"

# 2. Frontend unit tests (vitest; no stack needed), after one `npm ci`.
# 3. Browser: the whole stack (debug services, production frontend build) and the Playwright
#    tests in Debian's Chromium. SKIP_E2E=1 leaves it out (the unit tests still run).
if [[ -f frontend/package.json ]]; then
  command -v npm >/dev/null 2>&1 || ensure_apt_packages nodejs npm
  log "frontend: npm ci"
  if (cd frontend && npm ci --no-audit --no-fund) >"$LOG_DIR/npm-ci.log" 2>&1; then
    rm -rf frontend/test-results
    run_suite frontend-unit parse_vitest_results \
      bash -c 'cd frontend && npm run test:unit -- --reporter=default --reporter=json --outputFile.json=test-results/unit.json'
    [[ "${SKIP_E2E:-}" == 1 ]] || run_browser_tests
  else
    tail -n 20 "$LOG_DIR/npm-ci.log" >&2
    log "frontend: npm ci failed (log $LOG_DIR/npm-ci.log)"
    SUITES_FAILED+=(frontend)
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
fi

# Stop servers before the summary so that it really is the last line.
cleanup
if [[ ${#SUITES_FAILED[@]} -gt 0 ]]; then
  log "failed suites: ${SUITES_FAILED[*]}"
fi
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
if [[ $TOTAL_FAILED -gt 0 || ${#SUITES_FAILED[@]} -gt 0 ]]; then
  exit 1
fi
exit 0

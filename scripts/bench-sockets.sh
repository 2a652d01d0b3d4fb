#!/usr/bin/env bash
# Socket benchmarks (cmd/loadtest's idle and storm scenarios) against a
# throwaway Teleconsult on this machine:
#   idle   IDLE_N (15000) authenticated sockets held HOLD (30s); the server's
#          RSS growth per socket (VmRSS after the hold, after a forced GC, less
#          VmRSS before the first connection). Target: <= 20 KiB per socket.
#   storm  STORM_N (10000) sockets, each joined to its consultation, dropped
#          at once (TCP RST, no goodbye: a network failure), then all
#          reconnect at once: handshake + consultation:join ok + chat:sync ok.
#          Target: every one back within 10 s, no failure.
# Each run gets a fresh server (so the idle baseline is a fresh process) on
# the same database; each prints one JSON line (also appended to RESULTS,
# default ./bench-sockets.jsonl).
#
#   scripts/bench-sockets.sh [PROJECT_DIR]
# Env: BENCH_DIR (default ../shared/bench next to the project: seed.py)
#      IDLE_N, STORM_N, HOLD, RUNS ("idle storm"), PGURL
#      (default postgres://postgres@127.0.0.1:5432), TC_ENV (extra server env,
#      e.g. "GOGC=50"), LOADTEST_ARGS (extra loadtest flags for every run)
#      PROFILE=1: also save heap/goroutine profiles after the idle hold and a
#      CPU profile of the storm under $PROFILE_DIR (default ./bench-profiles).
#
# Server settings (run.sh's Teleconsult environment, GOMAXPROCS=2 unpinned):
#   SOCKET_MAX_PER_USER=1000   the default 10 is per user; each seeded user
#                              has one socket, but during the storm a user's
#                              dropped socket may not yet be released when
#                              the new one handshakes.
#   SOCKET_EVENT_RATE=10000 SOCKET_EVENT_BURST=20000   the per-user event
#                              budget (default 20/s, burst 40) is not what is
#                              measured; the storm sends 3 events per user.
#   No per-IP handshake limit exists for sockets (LOGIN_IP_MAX_FAILURES and
#   REGISTER_PER_IP_PER_HOUR are REST sign-in/sign-up limits, unused here).
#   DB pool, heartbeat (10 s + 5 s) and recovery window stay at defaults.
#   PPROF_ADDR on another loopback port: the load tool forces a GC through
#   /debug/pprof/heap?gc=1 before each RSS reading.
# The load tool spreads its sockets over 127.0.0.1-127.0.0.8 as source
# addresses (one address has ~28k ephemeral ports) and the open-files limit
# is raised for both processes (15,000 sockets plus reconnects).
# Only loopback is targeted; every run is bounded in time.
set -u
proj=$(cd "${1:-$(dirname "$0")/..}" && pwd)
bench=${BENCH_DIR:-$(cd "$proj/.." && pwd)/shared/bench}
[ -f "$bench/seed.py" ] || { echo "no seed.py at $bench (set BENCH_DIR)" >&2; exit 1; }
idle_n=${IDLE_N:-15000}; storm_n=${STORM_N:-10000}; hold=${HOLD:-30s}
most=$(( idle_n > storm_n ? idle_n : storm_n ))
rooms=$(( (most + 1) / 2 ))
results=${RESULTS:-$PWD/bench-sockets.jsonl}
profdir=${PROFILE_DIR:-$PWD/bench-profiles}
work=$(mktemp -d /tmp/tcsockbench.XXXX)
db="benchsock_$$_$RANDOM"; pgbase=${PGURL:-postgres://postgres@127.0.0.1:5432}
dburl="$pgbase/$db?sslmode=disable"
secret="bench-secret-$(head -c 24 /dev/urandom | base64 | tr -dc a-zA-Z0-9)"
srcips=127.0.0.1-127.0.0.8
spid=""

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
stop() { [ -n "$spid" ] && { kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; }; spid=""; }
cleanup() { stop; psql "$pgbase/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$proj" && go build -o "$work/teleconsult" ./cmd/teleconsult && go build -o "$work/loadtest" ./cmd/loadtest) || exit 1
psql "$pgbase/postgres" -qc "CREATE DATABASE $db" >/dev/null || exit 1
DATABASE_URL=$dburl JWT_SECRET=$secret "$work/teleconsult" migrate >/dev/null 2>&1 || { echo "migrate failed" >&2; exit 1; }
python3 "$bench/seed.py" "$dburl" "$rooms" "$secret" "$work/clients.txt" >&2 || exit 1

start() {
  port=$((19400 + RANDOM % 500)); pport=$((port + 1000))
  (cd "$proj" && exec env GOMAXPROCS=2 ADDR=127.0.0.1:$port PPROF_ADDR=127.0.0.1:$pport DATABASE_URL=$dburl \
    JWT_SECRET=$secret LOG_LEVEL=warn SOCKET_EVENT_RATE=10000 SOCKET_EVENT_BURST=20000 SOCKET_MAX_PER_USER=1000 \
    ${TC_ENV:-} "$work/teleconsult" serve) > "$work/server.log" 2>&1 &
  spid=$!
  for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && { sleep 2; return 0; }  # 2 s: let start-up work settle
    sleep 0.1
  done
  echo "server did not start" >&2; tail -5 "$work/server.log" >&2; return 1
}

emit() { # json-line name
  local line=$1
  [ -z "$line" ] && line='{}'
  printf '%s\n' "$line" | sed "s|}\$|,\"server\":\"tc2\",\"rooms\":$rooms}|; s|^{,|{|" | tee -a "$results"
}

profile() { # name url
  [ "${PROFILE:-}" = 1 ] || return 0
  mkdir -p "$profdir"
  curl -s -o "$profdir/$1" "$2" || echo "profile $1 failed" >&2
}

run_idle() {
  start || return
  local secs=${hold%s}
  # PROFILE=1: the heap and goroutine profiles are taken near the end of
  # the hold, with every socket connected.
  local ppid=""
  [ "${PROFILE:-}" = 1 ] && { ( sleep $(( ${secs%%[!0-9]*} / 2 + idle_n / 2000 + 4 )); profile idle-heap.pb.gz "http://127.0.0.1:$pport/debug/pprof/heap";
                                 profile idle-goroutine.txt "http://127.0.0.1:$pport/debug/pprof/goroutine?debug=1" ) & ppid=$!; }
  emit "$(timeout 600 "$work/loadtest" -scenario idle -url http://127.0.0.1:$port -pid $spid -clients "$work/clients.txt" \
    -n "$idle_n" -hold "$hold" -gc-url "http://127.0.0.1:$pport/debug/pprof/heap?gc=1" -src-ips $srcips \
    -max-time 8m ${LOADTEST_ARGS:-})"
  [ -n "$ppid" ] && wait "$ppid" 2>/dev/null
  stop
  grep -v '^$' "$work/server.log" | tail -3 >&2
}

run_storm() {
  start || return
  # A CPU profile covering the drop and the reconnects (setup takes ~n/2000 s
  # plus a 3 s settle).
  local ppid=""
  [ "${PROFILE:-}" = 1 ] && { ( sleep $(( storm_n / 2000 + 4 )); profile storm-cpu.pb.gz "http://127.0.0.1:$pport/debug/pprof/profile?seconds=15" ) & ppid=$!; }
  emit "$(timeout 600 "$work/loadtest" -scenario storm -url http://127.0.0.1:$port -pid $spid -clients "$work/clients.txt" \
    -n "$storm_n" -src-ips $srcips -max-time 8m ${LOADTEST_ARGS:-})"
  [ -n "$ppid" ] && wait "$ppid" 2>/dev/null
  stop
  grep -v '^$' "$work/server.log" | tail -3 >&2
}

for r in ${RUNS:-idle storm}; do
  case $r in
    idle) run_idle ;;
    storm) run_storm ;;
    *) echo "unknown run $r" >&2 ;;
  esac
done

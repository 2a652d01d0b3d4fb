#!/usr/bin/env bash
# Runs the official Engine.IO and Socket.IO protocol test suites against
# cmd/conformance (the production transport stack; see docs/conformance.md).
#
#   scripts/conformance.sh ENGINE_IO_SUITE SOCKET_IO_SUITE
#
# Each argument is a suite's test-suite/ directory (a checkout of
# socketio/engine.io-protocol and socketio/socket.io-protocol; this script
# fetches nothing), with its dependencies installed (`npm ci` there). They
# may also be given as EIO_SUITE and SIO_SUITE. RUNS (default 1) repeats
# both suites; GOMAXPROCS is passed on to the server. The suites' files are
# left untouched: each run uses a copy of test-suite.js aimed at the
# server's port. A run is cut after RUN_TIMEOUT seconds (default 300).
# Exits non-zero if any test of any run fails.
set -euo pipefail

eio=${1:-${EIO_SUITE:-}}
sio=${2:-${SIO_SUITE:-}}
runs=${RUNS:-1}
if [[ -z $eio || -z $sio ]]; then
  echo "usage: $0 ENGINE_IO_SUITE SOCKET_IO_SUITE (or EIO_SUITE, SIO_SUITE)" >&2
  exit 2
fi
for d in "$eio" "$sio"; do
  if [[ ! -f $d/test-suite.js || ! -x $d/node_modules/.bin/mocha ]]; then
    echo "$d: not a test-suite/ directory with its dependencies installed (run npm ci there)" >&2
    exit 2
  fi
done
eio=$(cd "$eio" && pwd)
sio=$(cd "$sio" && pwd)

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building cmd/conformance"
(cd "$root" && go build -o "$work/conformance" ./cmd/conformance)

# Port 0: the server picks a free loopback port and prints it.
"$work/conformance" -addr 127.0.0.1:0 >"$work/server.log" 2>&1 &
pid=$!
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\)$/\1/p' "$work/server.log")
  [[ -n $url ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $url ]]; then
  echo "cmd/conformance did not start:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "== server $url (pid $pid, GOMAXPROCS=${GOMAXPROCS:-default})"

# stage SUITE NAME: a copy of the suite aimed at the server, beside links
# to its dependencies.
stage() {
  local dir=$work/$2
  mkdir -p "$dir"
  ln -s "$1/node_modules" "$dir/node_modules"
  ln -s "$1/package.json" "$dir/package.json"
  ln -s "$1/node-imports.js" "$dir/node-imports.js"
  sed "s#http://localhost:3000#$url#" "$1/test-suite.js" >"$dir/test-suite.js"
  if ! grep -q "$url" "$dir/test-suite.js"; then
    echo "$1/test-suite.js: no http://localhost:3000 to aim at the server" >&2
    exit 1
  fi
}
stage "$eio" engine.io
stage "$sio" socket.io

failed=0
for run in $(seq 1 "$runs"); do
  for suite in engine.io socket.io; do
    out=$work/$suite.$run.out
    # --exit: a request the server left hanging must not keep mocha
    # alive once its test has failed; the timeout bounds the run anyway.
    rc=0
    (cd "$work/$suite" && timeout "${RUN_TIMEOUT:-300}" node_modules/.bin/mocha --exit --reporter dot test-suite.js) >"$out" 2>&1 || rc=$?
    passing=$(sed -n 's/^ *\([0-9]*\) passing.*/\1/p' "$out")
    failing=$(sed -n 's/^ *\([0-9]*\) failing.*/\1/p' "$out")
    echo "run $run $suite: ${passing:-0} passed, ${failing:-0} failed"
    if [[ $rc -ne 0 ]]; then
      failed=$((failed + 1))
      if [[ $rc -eq 124 ]]; then
        echo "  (cut after ${RUN_TIMEOUT:-300} s)"
      fi
      # The failures, without their stack traces.
      sed -n '/failing/,$p' "$out" | grep -v '^ *at ' || tail -n 20 "$out"
    fi
  done
done

if ! kill -0 "$pid" 2>/dev/null; then
  echo "cmd/conformance exited during the runs:" >&2
  cat "$work/server.log" >&2
  failed=$((failed + 1))
fi
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=

echo "== $runs run(s) of each suite, $failed failed"
[[ $failed -eq 0 ]]

#!/usr/bin/env bash
# Runs the side-by-side benchmark (../shared/bench/run.sh, or BENCH_DIR) with
# one change: every seeded room also has an active call. Teleconsult relays
# WebRTC signals (rtc:ice) only while a call rings or runs in the room, so
# without one its relay runs measure refusals, not relaying; the Node
# reference ignores the table. Everything else (rooms, tokens, load,
# pinning) is the shared script's. Arguments and environment as run.sh.
#
#   scripts/bench.sh [PROJECT_DIR] [ROOMS] [SECS]
set -eu
src=${BENCH_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/shared/bench}
[ -f "$src/run.sh" ] || { echo "no benchmark at $src (set BENCH_DIR)"; exit 1; }
copy=$(mktemp -d /tmp/tcbench-src.XXXX)
trap 'rm -rf "$copy"' EXIT
cp -r "$src/." "$copy/"
mv "$copy/seed.py" "$copy/seed-rooms.py"
cat > "$copy/seed.py" <<'PY'
#!/usr/bin/env python3
# seed-rooms.py, then an active call in every seeded room.
import os, subprocess, sys
here = os.path.dirname(os.path.abspath(__file__))
subprocess.run([sys.executable, os.path.join(here, "seed-rooms.py")] + sys.argv[1:], check=True)
subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", sys.argv[1], "-c",
    "INSERT INTO call_states (appointment_id, call_id, state, caller_id, media, ring_deadline, updated_at) "
    "SELECT id, gen_random_uuid()::text, 'active', doctor_id, 'video', now(), now() FROM appointments "
    "WHERE status = 'in_progress' ON CONFLICT DO NOTHING"], check=True)
PY
bash "$copy/run.sh" "$@"
